/**
 * Recursive-descent parser of Aura choreography files (grammar: suites/aura/SPEC.md §2).
 */
import type {
  AuraFile, Expr, Field, MatchArm, MessageStmt, Pos, ProtocolDecl, Stmt,
} from './ast.js';
import { AuraParseError } from './errors.js';
import { lex, numberValue, type Token } from './lexer.js';

const KEYWORDS = new Set([
  'protocol', 'roles', 'match', 'parallel', 'barrier', 'loop', 'break', 'continue', 'if', 'else',
  'for', 'in', 'timeout', 'or', 'try', 'compensate', 'compose', 'let', 'by', 'choice', 'at',
]);

/**
 * Parses the text of one `.aura` file.
 * @param src the file's text (UTF-8 decoded)
 * @param file the name used in error messages
 * @throws AuraParseError `file:line:col: expected X, found Y` on the first syntax error
 */
export function parseAura(src: string, file = '<input>'): AuraFile {
  return new Parser(src, file).file();
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  return `\`${t.text}\``;
}

class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(
    private readonly src: string,
    private readonly fileName: string,
  ) {
    this.toks = lex(src, fileName);
  }

  // --- token helpers -------------------------------------------------------

  private get t(): Token {
    return this.toks[this.i]!;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }

  private fail(expected: string, at: Token = this.t): never {
    throw new AuraParseError(this.fileName, at.pos, expected, describe(at));
  }

  private isP(text: string, t: Token = this.t): boolean {
    return t.kind === 'punct' && t.text === text;
  }

  private isKw(text: string, t: Token = this.t): boolean {
    return t.kind === 'ident' && t.text === text;
  }

  private eatP(text: string): Token {
    if (!this.isP(text)) this.fail(`\`${text}\``);
    return this.toks[this.i++]!;
  }

  private eatKw(text: string): Token {
    if (!this.isKw(text)) this.fail(`\`${text}\``);
    return this.toks[this.i++]!;
  }

  private optP(text: string): boolean {
    if (this.isP(text)) {
      this.i++;
      return true;
    }
    return false;
  }

  private ident(what: string): Token {
    if (this.t.kind !== 'ident' || KEYWORDS.has(this.t.text)) this.fail(what);
    return this.toks[this.i++]!;
  }

  // --- file and protocol ---------------------------------------------------

  file(): AuraFile {
    if (this.isKw('use')) {
      while (!this.isP(';') && this.t.kind !== 'eof') this.i++;
      this.eatP(';');
    }
    const protocols: ProtocolDecl[] = [];
    if (this.isKw('choreography')) {
      this.i++;
      this.eatP('!');
      this.eatP('{');
      while (this.isKw('protocol')) protocols.push(this.protocol());
      if (protocols.length === 0) this.fail('`protocol`');
      this.eatP('}');
    } else {
      while (this.isKw('protocol')) protocols.push(this.protocol());
      if (protocols.length === 0) this.fail('`protocol`');
    }
    if (this.t.kind !== 'eof') this.fail(protocols.length ? '`protocol` or end of file' : '`protocol`');
    return { file: this.fileName, protocols };
  }

  private protocol(): ProtocolDecl {
    const pos = this.eatKw('protocol').pos;
    const name = this.ident('a protocol name').text;
    this.eatP('{');
    this.eatKw('roles');
    this.eatP(':');
    const roles: { name: string; pos: Pos }[] = [];
    do {
      if (this.isP(';') && roles.length > 0) break;
      const r = this.ident('a role name');
      roles.push({ name: r.text, pos: r.pos });
    } while (this.optP(','));
    this.eatP(';');
    const body = this.stmtsUntilClose();
    this.eatP('}');
    return { name, roles, body, pos };
  }

  private stmtsUntilClose(): Stmt[] {
    const out: Stmt[] = [];
    while (!this.isP('}')) {
      if (this.t.kind === 'eof') this.fail('a statement or `}`');
      out.push(this.stmt());
    }
    return out;
  }

  private block(): Stmt[] {
    this.eatP('{');
    const s = this.stmtsUntilClose();
    this.eatP('}');
    return s;
  }

  // --- statements ----------------------------------------------------------

  private stmt(): Stmt {
    const t = this.t;
    const pos = t.pos;
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'match': return this.match();
        case 'choice': {
          this.i++;
          this.eatKw('at');
          const at = this.ident('a role name after `choice at`').text;
          const branches = [this.block()];
          while (this.isKw('or')) {
            this.i++;
            branches.push(this.block());
          }
          return { kind: 'choice', at, branches, pos };
        }
        case 'if': return this.ifStmt();
        case 'parallel': {
          this.i++;
          this.eatP('{');
          const branches: Stmt[][] = [];
          while (!this.isP('}')) {
            if (this.t.kind === 'eof') this.fail('a branch or `}`');
            branches.push(this.isP('{') ? this.block() : [this.stmt()]);
          }
          this.eatP('}');
          return { kind: 'parallel', branches, pos };
        }
        case 'barrier':
          this.i++;
          this.eatP(';');
          return { kind: 'barrier', pos };
        case 'loop':
          this.i++;
          return { kind: 'loop', body: this.block(), pos };
        case 'break': {
          this.i++;
          if (this.isKw('if')) {
            this.i++;
            const cond = this.expr();
            this.eatP(';');
            return { kind: 'break', cond, pos };
          }
          this.eatP(';');
          return { kind: 'break', pos };
        }
        case 'continue':
          this.i++;
          this.eatP(';');
          return { kind: 'continue', pos };
        case 'for': {
          this.i++;
          const v = this.ident('a loop variable').text;
          this.eatKw('in');
          const from = this.expr();
          let inclusive = false;
          if (this.isP('..=')) inclusive = true;
          else if (!this.isP('..')) this.fail('`..` or `..=`');
          this.i++;
          const to = this.expr();
          return { kind: 'for', var: v, from, to, inclusive, body: this.block(), pos };
        }
        case 'timeout': {
          this.i++;
          this.eatP('(');
          const d = this.t;
          const nv = d.kind === 'number' ? numberValue(d.text) : undefined;
          if (!nv) this.fail('a duration such as `30_seconds` or `500ms`');
          this.i++;
          this.eatP(')');
          const body = this.block();
          this.eatKw('or');
          const handler = this.block();
          return { kind: 'timeout', ms: nv.ms ?? nv.value, durationText: d.text, body, handler, pos };
        }
        case 'try': {
          this.i++;
          const body = this.block();
          const compensatePos = this.eatKw('compensate').pos;
          return { kind: 'try', body, compensate: this.block(), compensatePos, pos };
        }
        case 'compose': {
          const c = this.compose();
          this.eatP(';');
          return c;
        }
        case 'let': {
          this.i++;
          const name = this.ident('a name after `let`').text;
          this.eatP('=');
          const value = this.expr();
          let by: string | undefined;
          if (this.isKw('by')) {
            this.i++;
            by = this.ident('a role name after `by`').text;
          }
          this.eatP(';');
          return by === undefined ? { kind: 'let', name, value, pos } : { kind: 'let', name, value, by, pos };
        }
        default:
          break;
      }
      if (KEYWORDS.has(t.text)) this.fail('a statement', t);
      // `A -> B: L(…);` or `A: Action(…);`
      const from = this.ident('a role name').text;
      if (this.isP('->')) return this.message(from, pos);
      if (this.isP(':')) {
        this.i++;
        const name = this.ident('an action name').text;
        this.eatP('(');
        const args: Expr[] = [];
        while (!this.isP(')')) {
          args.push(this.expr());
          if (!this.optP(',')) break;
        }
        this.eatP(')');
        this.eatP(';');
        return { kind: 'action', role: from, name, args, pos };
      }
      this.fail('`->` or `:` after a role name');
    }
    this.fail('a statement');
  }

  private message(from: string, pos: Pos): MessageStmt {
    this.eatP('->');
    const to = this.ident('a receiving role').text;
    this.eatP(':');
    let label: string;
    if (this.t.kind === 'dollar') label = this.toks[this.i++]!.text;
    else label = this.ident('a message label').text;
    const fields: Field[] = [];
    if (this.optP('(')) {
      while (!this.isP(')')) {
        const f = this.ident('a field name');
        if (this.optP(':')) {
          const tStart = this.t.start;
          this.type();
          const type = this.src.slice(tStart, this.toks[this.i - 1]!.end);
          fields.push({ name: f.text, type, pos: f.pos });
        } else fields.push({ name: f.text, pos: f.pos });
        if (!this.optP(',')) break;
      }
      this.eatP(')');
    }
    this.eatP(';');
    return { kind: 'message', from, to, label, fields, pos };
  }

  private type(): void {
    if (this.optP('[')) {
      this.type();
      if (this.optP(';')) this.expr();
      this.eatP(']');
      return;
    }
    if (this.optP('(')) {
      while (!this.isP(')')) {
        this.type();
        if (!this.optP(',')) break;
      }
      this.eatP(')');
      return;
    }
    if (this.optP('&')) {
      this.type();
      return;
    }
    this.ident('a type');
    while (this.optP('::')) this.ident('a type name after `::`');
    if (this.optP('<')) {
      do this.type();
      while (this.optP(','));
      this.eatP('>');
    }
  }

  private compose(): Stmt {
    const pos = this.eatKw('compose').pos;
    const protocol = this.ident('a protocol name after `compose`').text;
    this.eatP('(');
    const roles: string[] = [];
    do roles.push(this.ident('a role name').text);
    while (this.optP(','));
    this.eatP(')');
    return { kind: 'compose', protocol, roles, pos };
  }

  private match(): Stmt {
    const pos = this.eatKw('match').pos;
    const subject = this.expr();
    let at: string | undefined;
    if (this.isKw('at')) {
      this.i++;
      at = this.ident('a role name after `at`').text;
    }
    this.eatP('{');
    const arms: MatchArm[] = [];
    while (!this.isP('}')) {
      const armPos = this.t.pos;
      const patterns = [this.pattern()];
      while (this.optP('|')) patterns.push(this.pattern());
      this.eatP('=>');
      let body: Stmt[];
      if (this.isP('{')) body = this.block();
      else if (this.isKw('compose')) body = [this.compose()];
      else body = [this.stmt()];
      this.optP(',');
      arms.push({ patterns, body, pos: armPos });
    }
    if (arms.length === 0) this.fail('a match arm');
    this.eatP('}');
    return at === undefined ? { kind: 'match', subject, arms, pos } : { kind: 'match', subject, at, arms, pos };
  }

  private pattern(): string {
    const t = this.t;
    if (t.kind === 'number' || t.kind === 'string') {
      this.i++;
      return t.text;
    }
    if (this.isP('-') && this.peek().kind === 'number') {
      this.i += 2;
      return `-${this.toks[this.i - 1]!.text}`;
    }
    if (t.kind !== 'ident') this.fail('a pattern (`_`, a path such as `Vote::Commit`, or a literal)');
    const start = t.start;
    this.i++;
    while (this.optP('::')) this.ident('a name after `::`');
    if (this.optP('(')) {
      // Tuple-variant patterns such as `Some(x)` are kept as text.
      let depth = 1;
      while (depth > 0 && this.t.kind !== 'eof') {
        if (this.isP('(')) depth++;
        if (this.isP(')')) depth--;
        this.i++;
      }
    }
    return this.src.slice(start, this.toks[this.i - 1]!.end);
  }

  private ifStmt(): Stmt {
    const pos = this.eatKw('if').pos;
    const cond = this.expr();
    const then = this.block();
    let els: Stmt[] = [];
    if (this.isKw('else')) {
      this.i++;
      els = this.isKw('if') ? [this.ifStmt()] : this.block();
    }
    return { kind: 'if', cond, then, else: els, pos };
  }

  // --- expressions ---------------------------------------------------------

  /** Parses an expression (it stops before `..`, which is not an operator, so `for` bounds parse alike). */
  private expr(): Expr {
    const first = this.t;
    const vars = new Set<string>();
    this.binary(0, vars);
    const last = this.toks[this.i - 1]!;
    const text = this.src.slice(first.start, last.end);
    const e: Expr = { text, vars: [...vars], pos: first.pos };
    const nv = first === last && first.kind === 'number' ? numberValue(first.text) : undefined;
    return nv && nv.ms === undefined ? { ...e, int: nv.value } : e;
  }

  private static readonly PREC: Record<string, number> = {
    '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6,
  };

  private binary(min: number, vars: Set<string>): void {
    this.unary(vars);
    for (;;) {
      const t = this.t;
      const p = t.kind === 'punct' ? Parser.PREC[t.text] : undefined;
      if (p === undefined || p <= min) return;
      this.i++;
      this.binary(p, vars);
    }
  }

  private unary(vars: Set<string>): void {
    if (this.isP('!') || this.isP('-') || this.isP('&')) {
      this.i++;
      this.unary(vars);
      return;
    }
    this.postfix(vars);
  }

  private postfix(vars: Set<string>): void {
    const t = this.t;
    if (t.kind === 'number' || t.kind === 'string') {
      this.i++;
    } else if (this.isP('(')) {
      this.i++;
      if (!this.isP(')')) {
        this.binary(0, vars);
        while (this.optP(',')) this.binary(0, vars);
      }
      this.eatP(')');
    } else if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
      this.i++;
      let isPath = false;
      while (this.isP('::')) {
        this.i++;
        this.ident('a name after `::`');
        isPath = true;
      }
      if (this.isP('(')) this.args(vars);
      else if (!isPath && t.text !== 'true' && t.text !== 'false') vars.add(t.text);
    } else {
      this.fail('an expression');
    }
    for (;;) {
      if (this.isP('.') && this.peek().kind === 'ident') {
        this.i += 2;
        if (this.isP('(')) this.args(vars);
      } else if (this.isP('.') && this.peek().kind === 'number') {
        this.i += 2;
      } else if (this.isP('[')) {
        this.i++;
        this.binary(0, vars);
        this.eatP(']');
      } else return;
    }
  }

  private args(vars: Set<string>): void {
    this.eatP('(');
    while (!this.isP(')')) {
      this.binary(0, vars);
      if (!this.optP(',')) break;
    }
    this.eatP(')');
  }
}
