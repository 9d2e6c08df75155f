/**
 * A reader for the Scribble / nuScr global-protocol syntax, for the subset the
 * two tools share, into the Aura AST (suites/aura/SPEC.md §15):
 *
 * ```text
 * module M;                                   (ignored)
 * type <java> "java.lang.String" from "rt.jar" as String;   (ignored)
 * [aux] global protocol P(role A, role B) {
 *   m(T1, x: T2) from A to B;                 a message (a payload type, or name: type)
 *   m() from A to B, C;                       one message to each receiver
 *   choice at A { … } or { … }
 *   rec X { … continue X; }                   continue only the innermost rec
 *   do Q(A, B);                               composition
 *   par { … } and { … }
 * }
 * ```
 * `rec X { B }` becomes `loop { B; break; }` (reaching the end of the body
 * leaves the loop), `continue X;` becomes `continue;`.
 */
import type { AuraFile, Field, Pos, ProtocolDecl, Stmt } from './ast.js';
import { AuraParseError } from './errors.js';
import { lex, type Token } from './lexer.js';

/** nuScr pragmas `(*# … #*)` and OCaml comments `(* … *)` blanked out, newlines kept (positions stay right). */
function blankOcamlComments(src: string): string {
  return src.replace(/\(\*[\s\S]*?\*\)/g, (m) => m.replace(/[^\n]/g, ' '));
}

/** True when `src` starts (after comments) with Scribble's `module`, `type`, `global`, `aux` or `explicit`. */
export function looksLikeScribble(src: string, file = '<input>'): boolean {
  try {
    const first = lex(blankOcamlComments(src), file)[0];
    return first?.kind === 'ident' && ['module', 'type', 'global', 'aux', 'explicit', 'import'].includes(first.text);
  } catch {
    return false;
  }
}

/**
 * Parses a Scribble/nuScr file into the Aura AST; the first global protocol is the main one.
 * @throws AuraParseError `file:line:col: expected X, found Y` on the first syntax error,
 * including constructs outside the subset (e.g. `continue` of an outer `rec`).
 */
export function parseScribble(src: string, file = '<input>'): AuraFile {
  const toks = lex(blankOcamlComments(src), file);
  let i = 0;
  const t = () => toks[i]!;
  const fail = (expected: string, at: Token = t()): never => {
    throw new AuraParseError(file, at.pos, expected, at.kind === 'eof' ? 'end of file' : `\`${at.text}\``);
  };
  const isP = (s: string) => t().kind === 'punct' && t().text === s;
  const isKw = (s: string) => t().kind === 'ident' && t().text === s;
  const eatP = (s: string) => (isP(s) ? toks[i++]! : fail(`\`${s}\``));
  const eatKw = (s: string) => (isKw(s) ? toks[i++]! : fail(`\`${s}\``));
  const ident = (what: string) => (t().kind === 'ident' ? toks[i++]! : fail(what));
  const optP = (s: string) => (isP(s) ? (i++, true) : false);
  const skipTo = (s: string) => {
    while (!isP(s) && t().kind !== 'eof') i++;
    eatP(s);
  };

  const protocols: ProtocolDecl[] = [];
  while (t().kind !== 'eof') {
    if (isKw('module') || isKw('type') || isKw('import')) {
      skipTo(';');
      continue;
    }
    while (isKw('aux') || isKw('explicit')) i++;
    const pos = eatKw('global').pos;
    eatKw('protocol');
    const name = ident('a protocol name').text;
    eatP('(');
    const roles: { name: string; pos: Pos }[] = [];
    do {
      eatKw('role');
      const r = ident('a role name');
      roles.push({ name: r.text, pos: r.pos });
    } while (optP(','));
    eatP(')');
    const body = block([]);
    protocols.push({ name, roles, body, pos });
  }
  if (protocols.length === 0) fail('`global protocol`');
  return { file, protocols };

  function block(recs: readonly string[]): Stmt[] {
    eatP('{');
    const out: Stmt[] = [];
    while (!isP('}')) {
      if (t().kind === 'eof') fail('an interaction or `}`');
      out.push(...stmt(recs));
    }
    eatP('}');
    return out;
  }

  function stmt(recs: readonly string[]): Stmt[] {
    const pos = t().pos;
    if (isKw('choice')) {
      i++;
      eatKw('at');
      const at = ident('a role name after `choice at`').text;
      const branches = [block(recs)];
      while (isKw('or')) {
        i++;
        branches.push(block(recs));
      }
      return [{ kind: 'choice', at, branches, pos }];
    }
    if (isKw('rec')) {
      i++;
      const x = ident('a recursion variable').text;
      const body = block([...recs, x]);
      return [{ kind: 'loop', body: [...body, { kind: 'break', pos }], pos }];
    }
    if (isKw('continue')) {
      i++;
      const x = ident('a recursion variable after `continue`');
      if (x.text !== recs.at(-1)) fail(recs.length ? `\`continue ${recs.at(-1)}\` (only the innermost rec can be continued)` : 'a `rec` around `continue`', x);
      eatP(';');
      return [{ kind: 'continue', pos }];
    }
    if (isKw('do')) {
      i++;
      const protocol = ident('a protocol name after `do`').text;
      eatP('(');
      const roles: string[] = [];
      do roles.push(ident('a role name').text);
      while (optP(','));
      eatP(')');
      eatP(';');
      return [{ kind: 'compose', protocol, roles, pos }];
    }
    if (isKw('par')) {
      i++;
      const branches = [block(recs)];
      while (isKw('and')) {
        i++;
        branches.push(block(recs));
      }
      return [{ kind: 'parallel', branches, pos }];
    }
    // m(payload) from A to B[, C];
    const label = ident('an interaction (`m(T) from A to B;`), `choice`, `rec`, `continue`, `do` or `par`').text;
    const fields: Field[] = [];
    if (isP('(')) {
      i++;
      let n = 0;
      while (!isP(')')) {
        const start = t();
        let fname = `arg${n}`;
        if (t().kind === 'ident' && toks[i + 1]?.kind === 'punct' && toks[i + 1]!.text === ':') {
          fname = toks[i]!.text;
          i += 2;
        }
        const ty = ident('a payload type');
        let type = ty.text;
        while (isP('.')) {
          i++;
          type += `.${ident('a type name').text}`;
        }
        fields.push({ name: fname, type, pos: start.pos });
        n++;
        if (!isP(',')) break;
        i++;
      }
      eatP(')');
    }
    eatKw('from');
    const from = ident('the sending role').text;
    eatKw('to');
    const tos = [ident('a receiving role').text];
    while (isP(',')) {
      i++;
      tos.push(ident('a receiving role').text);
    }
    eatP(';');
    return tos.map((to) => ({ kind: 'message', from, to, label, fields, pos }));
  }
}
