/**
 * Elaboration of a parsed protocol into the core global type (`global.ts`),
 * checking the rules that need no projection: roles and messages (SPEC §4),
 * data knowledge (§6), loop placement and guardedness (§7), parallel labels
 * (§8), timeout observers (§9), compensators, failure points and order
 * (§10), composition (§11).
 */
import type { AuraFile, Expr, MessageStmt, Pos, ProtocolDecl, Stmt } from './ast.js';
import type { AuraViolation } from './errors.js';
import { END, firstMessages, rolesOf, type G, type GBranch } from './global.js';

/** The result of elaborating a file's main protocol (or a named one). */
export interface Elaborated {
  readonly protocol: ProtocolDecl;
  readonly roles: readonly string[];
  readonly global: G;
  /** Violations found during elaboration, in source order of discovery. */
  readonly violations: AuraViolation[];
}

/** Who knows which name: name → roles. Names not in `bound` are parameters, known to all. */
type Env = ReadonlyMap<string, ReadonlySet<string>>;

interface LoopCtx {
  readonly id: number;
  /** false once inside a parallel branch, timeout or try of this loop's body (AURA-7.1). */
  readonly reachable: boolean;
}

interface FailCtx {
  readonly compensator: string;
  readonly onFail: G;
  count: number;
}

interface Ctx {
  readonly roles: ReadonlySet<string>;
  readonly loops: readonly LoopCtx[];
  readonly fail?: FailCtx;
  readonly composing: readonly string[];
}

/**
 * Elaborates protocol `name` (default: the file's first, SPEC AURA-1.1).
 * Never throws for a rule violation: violations are returned; the global type
 * is still built as far as possible.
 */
export function elaborate(file: AuraFile, name?: string): Elaborated {
  const protocol = name === undefined ? file.protocols[0] : file.protocols.find((p) => p.name === name);
  if (!protocol) throw new Error(`elaborate: no protocol ${name ?? ''} in ${file.file}`);
  return new Elaborator(file, protocol).run();
}

let loopCounter = 0;

class Elaborator {
  readonly violations: AuraViolation[] = [];
  private readonly protocols: Map<string, ProtocolDecl>;
  /** Every name some message, let or for binds anywhere (after composition). */
  private readonly bound = new Set<string>();
  private roleList: string[] = [];

  constructor(
    file: AuraFile,
    private readonly protocol: ProtocolDecl,
  ) {
    this.protocols = new Map(file.protocols.map((p) => [p.name, p]));
  }

  private v(rule: string, pos: Pos, message: string, role?: string): void {
    this.violations.push(role === undefined ? { rule, pos, message } : { rule, role, pos, message });
  }

  run(): Elaborated {
    const p = this.protocol;
    const seen = new Set<string>();
    for (const r of p.roles) {
      if (seen.has(r.name)) this.v('AURA-4.1', r.pos, `roles: \`${r.name}\` is declared twice`, r.name);
      seen.add(r.name);
    }
    this.roleList = [...seen];
    this.collectBound(p.body, [p.name]);
    const ctx: Ctx = { roles: seen, loops: [], composing: [p.name] };
    const global = this.list(p.body, new Map(), ctx, END);
    const used = rolesOf(global);
    for (const r of p.roles) {
      if (!used.has(r.name)) this.v('AURA-4.4', r.pos, `role \`${r.name}\` takes part in no message`, r.name);
    }
    return { protocol: p, roles: this.roleList, global, violations: dedupe(this.violations) };
  }

  private collectBound(stmts: readonly Stmt[], stack: string[]): void {
    for (const s of stmts) {
      switch (s.kind) {
        case 'message': s.fields.forEach((f) => this.bound.add(f.name)); break;
        case 'let': this.bound.add(s.name); break;
        case 'for': this.bound.add(s.var); this.collectBound(s.body, stack); break;
        case 'match': s.arms.forEach((a) => this.collectBound(a.body, stack)); break;
        case 'choice': case 'parallel': s.branches.forEach((b) => this.collectBound(b, stack)); break;
        case 'if': this.collectBound(s.then, stack); this.collectBound(s.else, stack); break;
        case 'loop': this.collectBound(s.body, stack); break;
        case 'timeout': this.collectBound(s.body, stack); this.collectBound(s.handler, stack); break;
        case 'try': this.collectBound(s.body, stack); this.collectBound(s.compensate, stack); break;
        case 'compose': {
          const q = this.protocols.get(s.protocol);
          if (q && !stack.includes(q.name)) this.collectBound(q.body, [...stack, q.name]);
          break;
        }
        default: break;
      }
    }
  }

  // --- knowledge (SPEC §6) -------------------------------------------------

  /** The roles that know every variable of `vars` under `env` (parameters are known to all). */
  private knowers(vars: readonly string[], env: Env): Set<string> {
    let out = new Set(this.roleList);
    for (const x of vars) {
      if (!this.bound.has(x)) continue;
      const k = env.get(x) ?? new Set<string>();
      out = new Set([...out].filter((r) => k.has(r)));
    }
    return out;
  }

  private learn(env: Env, names: readonly string[], roles: readonly string[]): Env {
    if (names.length === 0) return env;
    const m = new Map(env);
    for (const n of names) m.set(n, new Set(roles));
    return m;
  }

  private meet(envs: readonly Env[]): Env {
    if (envs.length === 0) return new Map();
    const [first, ...rest] = envs;
    const out = new Map<string, ReadonlySet<string>>();
    for (const [k, v] of first!) {
      let s = new Set(v);
      for (const e of rest) {
        const w = e.get(k);
        s = new Set([...s].filter((r) => w?.has(r)));
      }
      if (s.size > 0) out.set(k, s);
    }
    return out;
  }

  private join(envs: readonly Env[]): Env {
    const out = new Map<string, Set<string>>();
    for (const e of envs) for (const [k, v] of e) out.set(k, new Set([...(out.get(k) ?? []), ...v]));
    return out;
  }

  /** Knowledge after a statement list, without building anything (conservative for loops). */
  private envAfterList(stmts: readonly Stmt[], env: Env, stack: readonly string[]): Env {
    let e = env;
    for (const s of stmts) e = this.envAfter(s, e, stack);
    return e;
  }

  private envAfter(s: Stmt, env: Env, stack: readonly string[]): Env {
    switch (s.kind) {
      case 'message': return this.learn(env, s.fields.map((f) => f.name), [s.from, s.to]);
      case 'let': {
        const by = s.by ?? [...this.knowers(s.value.vars, env)][0];
        return by === undefined ? env : this.learn(env, [s.name], [by]);
      }
      case 'match': return this.meet(s.arms.map((a) => this.envAfterList(a.body, env, stack)));
      case 'choice': return this.meet(s.branches.map((b) => this.envAfterList(b, env, stack)));
      case 'if': return this.meet([this.envAfterList(s.then, env, stack), this.envAfterList(s.else, env, stack)]);
      case 'parallel': return this.join(s.branches.map((b) => this.envAfterList(b, env, stack)));
      case 'timeout': return this.meet([this.envAfterList(s.body, env, stack), this.envAfterList(s.handler, env, stack)]);
      case 'try': return this.meet([this.envAfterList(s.body, env, stack), this.envAfterList(s.compensate, env, stack)]);
      case 'compose': {
        const q = this.protocols.get(s.protocol);
        if (!q || stack.includes(q.name) || q.roles.length !== s.roles.length) return env;
        return this.envAfterList(renameStmts(q.body, renaming(q, s.roles)), env, [...stack, q.name]);
      }
      default: return env;
    }
  }

  // --- statements ----------------------------------------------------------

  /** Elaborates `stmts` followed by `k`. */
  private list(stmts: readonly Stmt[], env: Env, ctx: Ctx, k: G): G {
    const envs: Env[] = [env];
    for (const s of stmts) envs.push(this.envAfter(s, envs.at(-1)!, ctx.composing));
    let g = k;
    for (let i = stmts.length - 1; i >= 0; i--) g = this.stmt(stmts[i]!, envs[i]!, ctx, g);
    return g;
  }

  private checkRole(r: string, pos: Pos, ctx: Ctx, what: string): void {
    if (!ctx.roles.has(r)) this.v('AURA-4.1', pos, `${what}: role \`${r}\` is not declared in \`roles:\``, r);
  }

  private dataChoice(kind: 'match' | 'if' | 'loop', e: Expr, env: Env, at: string | undefined, ctx: Ctx): { deciders: ReadonlySet<string> | 'all'; onData: boolean } {
    const knowers = this.knowers(e.vars, env);
    const onData = e.vars.some((x) => this.bound.has(x));
    if (at !== undefined) {
      this.checkRole(at, e.pos, ctx, '`match … at`');
      if (onData && !knowers.has(at)) {
        this.v('AURA-6.1', e.pos, `\`${e.text}\`: role \`${at}\` decides but does not know ${e.vars.filter((x) => this.bound.has(x)).map((x) => `\`${x}\``).join(', ')} here`, at);
      }
      return { deciders: new Set([at]), onData };
    }
    if (!onData) return { deciders: 'all', onData };
    if (knowers.size === 0) {
      this.v('AURA-6.1', e.pos, `${kind === 'loop' ? '`break if`' : `\`${kind}\``} on \`${e.text}\`: no role knows ${e.vars.filter((x) => this.bound.has(x)).map((x) => `\`${x}\``).join(', ')} at this point`);
    }
    return { deciders: knowers, onData };
  }

  private stmt(s: Stmt, env: Env, ctx: Ctx, k: G): G {
    switch (s.kind) {
      case 'message': return this.message(s, ctx, k);
      case 'action':
        this.checkRole(s.role, s.pos, ctx, `action \`${s.name}\``);
        return k;
      case 'barrier':
        return k;
      case 'let': {
        if (s.by !== undefined) {
          this.checkRole(s.by, s.pos, ctx, `\`let ${s.name}\``);
          const kn = this.knowers(s.value.vars, env);
          if (!kn.has(s.by)) {
            this.v('AURA-6.3', s.pos, `\`let ${s.name} = ${s.value.text} by ${s.by}\`: \`${s.by}\` does not know every variable of the expression here`, s.by);
          }
        } else {
          const kn = [...this.knowers(s.value.vars, env)];
          if (kn.length !== 1) {
            this.v('AURA-6.4', s.pos, `\`let ${s.name} = ${s.value.text}\`: ${kn.length === 0 ? 'no role knows' : `${kn.length} roles (${kn.join(', ')}) know`} every variable of the expression; write \`by ROLE\``);
          }
        }
        return k;
      }
      case 'match': {
        const { deciders, onData } = this.dataChoice('match', s.subject, env, s.at, ctx);
        const branches: GBranch[] = s.arms.map((a) => ({ tag: a.patterns.join(' | '), body: this.list(a.body, env, ctx, k), pos: a.pos }));
        return { k: 'choice', kind: 'match', deciders, onData, branches, pos: s.pos, subject: s.subject.text };
      }
      case 'if': {
        const { deciders, onData } = this.dataChoice('if', s.cond, env, undefined, ctx);
        return {
          k: 'choice', kind: 'if', deciders, onData, pos: s.pos, subject: s.cond.text,
          branches: [
            { tag: 'then', body: this.list(s.then, env, ctx, k), pos: s.then[0]?.pos ?? s.pos },
            { tag: 'else', body: this.list(s.else, env, ctx, k), pos: s.else[0]?.pos ?? s.pos },
          ],
        };
      }
      case 'choice': {
        this.checkRole(s.at, s.pos, ctx, '`choice at`');
        if (s.branches.length < 2) this.v('AURA-5.1', s.pos, '`choice at`: a choice needs at least two branches (`{ … } or { … }`)', s.at);
        return {
          k: 'choice', kind: 'choice', deciders: new Set([s.at]), onData: false, pos: s.pos,
          branches: s.branches.map((b, i) => ({ tag: `#${i + 1}`, body: this.list(b, env, ctx, k), pos: b[0]?.pos ?? s.pos })),
        };
      }
      case 'parallel': return this.parallel(s, env, ctx, k);
      case 'loop': {
        const id = ++loopCounter;
        const inner: Ctx = { ...ctx, loops: [...ctx.loops, { id, reachable: true }] };
        const body = this.list(s.body, env, inner, { k: 'continue', id });
        this.checkGuarded(body, id, s.pos);
        return { k: 'loop', id, body, next: k, pos: s.pos };
      }
      case 'break':
      case 'continue': {
        const loop = ctx.loops.at(-1);
        if (!loop || !loop.reachable) {
          this.v('AURA-7.1', s.pos, `\`${s.kind}\` ${loop ? 'crosses a parallel, timeout or try boundary of its loop' : 'outside a loop'}`);
          return k;
        }
        if (s.kind === 'continue') return { k: 'continue', id: loop.id };
        if (!s.cond) return { k: 'break', id: loop.id };
        const { deciders, onData } = this.dataChoice('loop', s.cond, env, undefined, ctx);
        return {
          k: 'choice', kind: 'loop', deciders, onData, pos: s.pos, subject: s.cond.text,
          branches: [
            { tag: 'break', body: { k: 'break', id: loop.id }, pos: s.pos },
            { tag: 'continue', body: k, pos: s.pos },
          ],
        };
      }
      case 'for': return this.forLoop(s, env, ctx, k);
      case 'timeout': return this.timeout(s, env, ctx, k);
      case 'try': return this.tryStmt(s, env, ctx, k);
      case 'compose': {
        const q = this.protocols.get(s.protocol);
        if (!q) {
          this.v('AURA-11.1', s.pos, `\`compose ${s.protocol}\`: no protocol \`${s.protocol}\` in this file`);
          return k;
        }
        if (ctx.composing.includes(q.name)) {
          this.v('AURA-11.3', s.pos, `\`compose ${s.protocol}\`: recursive composition (${[...ctx.composing, q.name].join(' → ')})`);
          return k;
        }
        if (q.roles.length !== s.roles.length) {
          this.v('AURA-11.2', s.pos, `\`compose ${s.protocol}\`: passes ${s.roles.length} roles, \`${q.name}\` declares ${q.roles.length}`);
          return k;
        }
        if (new Set(s.roles).size !== s.roles.length) {
          this.v('AURA-11.2', s.pos, `\`compose ${s.protocol}\`: the same role is passed twice`);
          return k;
        }
        s.roles.forEach((r) => this.checkRole(r, s.pos, ctx, `\`compose ${s.protocol}\``));
        const body = renameStmts(q.body, renaming(q, s.roles));
        return this.list(body, env, { ...ctx, composing: [...ctx.composing, q.name] }, k);
      }
    }
  }

  private message(s: MessageStmt, ctx: Ctx, k: G): G {
    this.checkRole(s.from, s.pos, ctx, `message \`${s.label}\``);
    this.checkRole(s.to, s.pos, ctx, `message \`${s.label}\``);
    if (s.from === s.to) this.v('AURA-4.2', s.pos, `message \`${s.label}\`: \`${s.from}\` sends to itself`, s.from);
    const names = new Set<string>();
    for (const f of s.fields) {
      if (names.has(f.name)) this.v('AURA-4.3', f.pos, `message \`${s.label}\`: field \`${f.name}\` appears twice`);
      names.add(f.name);
    }
    const g: G = { k: 'msg', from: s.from, to: s.to, label: s.label, fields: s.fields, pos: s.pos, next: k };
    const f = ctx.fail;
    if (!f || s.from === f.compensator) return g;
    f.count++;
    const failMsg: G = {
      k: 'msg', from: s.from, to: f.compensator, label: '$fail',
      fields: [{ name: 'reason', type: 'String', pos: s.pos }], pos: s.pos, next: f.onFail,
    };
    return {
      k: 'choice', kind: 'fail', deciders: new Set([s.from]), onData: false, pos: s.pos,
      branches: [
        { tag: 'ok', body: g, pos: s.pos },
        { tag: '$fail', body: failMsg, pos: s.pos },
      ],
    };
  }

  private parallel(s: Extract<Stmt, { kind: 'parallel' }>, env: Env, ctx: Ctx, k: G): G {
    if (s.branches.length < 2) this.v('AURA-8.3', s.pos, `\`parallel\` with ${s.branches.length} branch(es): nothing runs in parallel`);
    const inner: Ctx = { ...ctx, loops: ctx.loops.map((l) => ({ ...l, reachable: false })) };
    const { fail: _drop, ...noFail } = inner;
    const branches = s.branches.map((b) => this.list(b, env, noFail, END));
    // AURA-8.1: the same sender → receiver label in two branches.
    const seen = new Map<string, { branch: number; pos: Pos }>();
    branches.forEach((b, i) => {
      for (const m of messagesOf(b)) {
        const key = `${m.from}->${m.to}:${m.label}`;
        const prev = seen.get(key);
        if (prev && prev.branch !== i) {
          this.violations.push({
            rule: 'AURA-8.1', role: m.to, pos: m.pos,
            message: `\`parallel\`: \`${m.from} -> ${m.to}: ${m.label}\` appears in two branches; \`${m.to}\` cannot tell them apart`,
            conflict: [
              { text: `${m.from}?${m.label} (branch ${prev.branch + 1})`, pos: prev.pos },
              { text: `${m.from}?${m.label} (branch ${i + 1})`, pos: m.pos },
            ],
          });
        } else if (!prev) seen.set(key, { branch: i, pos: m.pos });
      }
    });
    return { k: 'par', branches, next: k, pos: s.pos };
  }

  private forLoop(s: Extract<Stmt, { kind: 'for' }>, env: Env, ctx: Ctx, k: G): G {
    const env2 = this.learn(env, [s.var], this.roleList);
    const hasJump = containsJump(s.body);
    if (s.from.int !== undefined && s.to.int !== undefined && !hasJump) {
      const n = Math.max(0, s.to.int - s.from.int + (s.inclusive ? 1 : 0));
      if (n <= 16) {
        let g = k;
        for (let i = 0; i < n; i++) g = this.list(s.body, env2, ctx, g);
        return g;
      }
    }
    const id = ++loopCounter;
    const vars = [...s.from.vars, ...s.to.vars];
    const { deciders, onData } = this.dataChoice('loop', { text: `${s.from.text}..${s.to.text}`, vars, pos: s.from.pos }, env, undefined, ctx);
    const inner: Ctx = { ...ctx, loops: [...ctx.loops, { id, reachable: true }] };
    const iter = this.list(s.body, env2, inner, { k: 'continue', id });
    const body: G = {
      k: 'choice', kind: 'for', deciders, onData, pos: s.pos, range: { from: s.from.text, to: s.to.text, inclusive: s.inclusive },
      branches: [
        { tag: 'exit', body: { k: 'break', id }, pos: s.pos },
        { tag: 'iterate', body: iter, pos: s.body[0]?.pos ?? s.pos },
      ],
    };
    this.checkGuarded(iter, id, s.pos);
    return { k: 'loop', id, body, next: k, pos: s.pos };
  }

  private timeout(s: Extract<Stmt, { kind: 'timeout' }>, env: Env, ctx: Ctx, k: G): G {
    if (!(s.ms > 0)) this.v('AURA-9.3', s.pos, `\`timeout(${s.durationText})\`: the duration must be positive`);
    const inner: Ctx = { ...ctx, loops: ctx.loops.map((l) => ({ ...l, reachable: false })) };
    const body = this.list(s.body, env, inner, k);
    const handler = this.list(s.handler, env, inner, k);
    const bodyOnly = this.list(s.body, env, inner, END);
    const firsts = firstMessages(bodyOnly);
    const observers = [...new Set(firsts.map((m) => m.to))];
    let observer: string | undefined = observers[0];
    if (firsts.length === 0) {
      this.v('AURA-9.1', s.pos, '`timeout`: the body has no message to wait for, so no role can observe the timeout');
      observer = undefined;
    } else if (observers.length > 1) {
      this.v('AURA-9.1', s.pos, `\`timeout\`: the body's first messages go to ${observers.map((o) => `\`${o}\``).join(' and ')}; one role must observe the timeout`);
      observer = undefined;
    }
    return {
      // Without an observer (AURA-9.1 already reported) nobody is blamed for not learning the outcome.
      k: 'choice', kind: 'timeout', deciders: observer ? new Set([observer]) : 'all', onData: false, pos: s.pos,
      ...(observer ? { observer } : {}), ms: s.ms,
      branches: [
        { tag: 'body', body, pos: s.body[0]?.pos ?? s.pos },
        { tag: 'timeout', body: handler, pos: s.handler[0]?.pos ?? s.pos },
      ],
    };
  }

  private tryStmt(s: Extract<Stmt, { kind: 'try' }>, env: Env, ctx: Ctx, k: G): G {
    const inner: Ctx = { ...ctx, loops: ctx.loops.map((l) => ({ ...l, reachable: false })) };
    const comp = this.list(s.compensate, env, inner, k);
    const compOnly = this.list(s.compensate, env, inner, END);
    const senders = [...new Set(firstMessages(compOnly).map((m) => m.from))];
    if (senders.length !== 1) {
      this.v('AURA-10.1', s.compensatePos, senders.length === 0
        ? '`compensate`: the block sends no message, so no role can tell the others to compensate'
        : `\`compensate\`: the block starts with messages from ${senders.map((r) => `\`${r}\``).join(' and ')}; one role must compensate`);
      return this.list(s.body, env, inner, k);
    }
    const compensator = senders[0]!;
    const fail: FailCtx = { compensator, onFail: comp, count: 0 };
    const forward = this.list(s.body, env, { ...inner, fail }, k);
    if (fail.count === 0) {
      this.v('AURA-10.2', s.pos, `\`try\`: every message is sent by the compensator \`${compensator}\`, so no step can fail and the compensation never runs`, compensator);
    }
    // AURA-10.4: compensation addresses roles in the reverse of the forward order.
    const order = (stmts: readonly Stmt[]) => {
      const out: string[] = [];
      for (const m of messagesOfStmts(stmts)) for (const r of [m.from, m.to]) if (r !== compensator && !out.includes(r)) out.push(r);
      return out;
    };
    const fwd = order(s.body);
    const back = order(s.compensate).filter((r) => fwd.includes(r));
    const expected = fwd.filter((r) => back.includes(r)).reverse();
    if (back.join(',') !== expected.join(',')) {
      this.violations.push({
        rule: 'AURA-10.4', pos: s.compensatePos,
        message: `\`compensate\` addresses ${back.join(', ')}; the reverse of the forward order is ${expected.join(', ')}`,
        conflict: [
          { text: `forward order: ${fwd.join(', ')}`, pos: s.pos },
          { text: `compensation order: ${back.join(', ')}`, pos: s.compensatePos },
        ],
      });
    }
    return forward;
  }

  /** AURA-7.3: a path from the loop start back to it without a message. */
  private checkGuarded(body: G, id: number, pos: Pos): void {
    const seen = new Set<G>();
    const unguarded = (g: G): boolean => {
      if (seen.has(g)) return false;
      seen.add(g);
      switch (g.k) {
        case 'continue': return g.id === id;
        case 'msg': case 'end': case 'break': return false;
        case 'choice': return g.branches.some((b) => unguarded(b.body));
        case 'loop': return unguarded(g.body) || unguarded(g.next);
        case 'par': return g.branches.every((b) => messagesOf(b).length === 0) && unguarded(g.next);
      }
    };
    if (unguarded(body)) this.v('AURA-7.3', pos, 'loop: an iteration can go round without any message (unguarded recursion)');
  }
}

/** Drops repeated violations (a block elaborated twice, an unrolled `for`). */
export function dedupe(vs: readonly AuraViolation[]): AuraViolation[] {
  const seen = new Set<string>();
  return vs.filter((v) => {
    const key = `${v.rule}|${v.role ?? ''}|${v.pos.line}:${v.pos.col}|${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The messages of a core global type (every one, through all branches). */
export function messagesOf(g: G): Extract<G, { k: 'msg' }>[] {
  const out: Extract<G, { k: 'msg' }>[] = [];
  const seen = new Set<G>();
  const walk = (x: G): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'msg': out.push(x); walk(x.next); return;
      case 'choice': x.branches.forEach((b) => walk(b.body)); return;
      case 'loop': walk(x.body); walk(x.next); return;
      case 'par': x.branches.forEach(walk); walk(x.next); return;
      default: return;
    }
  };
  walk(g);
  return out;
}

function messagesOfStmts(stmts: readonly Stmt[]): MessageStmt[] {
  const out: MessageStmt[] = [];
  const walk = (ss: readonly Stmt[]) => {
    for (const s of ss) {
      switch (s.kind) {
        case 'message': out.push(s); break;
        case 'match': s.arms.forEach((a) => walk(a.body)); break;
        case 'choice': case 'parallel': s.branches.forEach(walk); break;
        case 'if': walk(s.then); walk(s.else); break;
        case 'loop': case 'for': walk(s.body); break;
        case 'timeout': walk(s.body); walk(s.handler); break;
        case 'try': walk(s.body); walk(s.compensate); break;
        default: break;
      }
    }
  };
  walk(stmts);
  return out;
}

function containsJump(stmts: readonly Stmt[]): boolean {
  return stmts.some((s) => {
    switch (s.kind) {
      case 'break': case 'continue': return true;
      case 'match': return s.arms.some((a) => containsJump(a.body));
      case 'choice': case 'parallel': return s.branches.some(containsJump);
      case 'if': return containsJump(s.then) || containsJump(s.else);
      case 'timeout': return containsJump(s.body) || containsJump(s.handler);
      case 'try': return containsJump(s.body) || containsJump(s.compensate);
      default: return false; // jumps inside a nested loop/for belong to it
    }
  });
}

function renaming(q: ProtocolDecl, args: readonly string[]): ReadonlyMap<string, string> {
  return new Map(q.roles.map((r, i) => [r.name, args[i]!]));
}

/** Renames roles in a statement list (for `compose`, SPEC §11). */
export function renameStmts(stmts: readonly Stmt[], m: ReadonlyMap<string, string>): Stmt[] {
  const r = (x: string) => m.get(x) ?? x;
  const list = (ss: readonly Stmt[]) => renameStmts(ss, m);
  return stmts.map((s): Stmt => {
    switch (s.kind) {
      case 'message': return { ...s, from: r(s.from), to: r(s.to) };
      case 'action': return { ...s, role: r(s.role) };
      case 'match': return { ...s, ...(s.at !== undefined ? { at: r(s.at) } : {}), arms: s.arms.map((a) => ({ ...a, body: list(a.body) })) };
      case 'choice': return { ...s, at: r(s.at), branches: s.branches.map(list) };
      case 'if': return { ...s, then: list(s.then), else: list(s.else) };
      case 'parallel': return { ...s, branches: s.branches.map(list) };
      case 'loop': return { ...s, body: list(s.body) };
      case 'for': return { ...s, body: list(s.body) };
      case 'timeout': return { ...s, body: list(s.body), handler: list(s.handler) };
      case 'try': return { ...s, body: list(s.body), compensate: list(s.compensate) };
      case 'compose': return { ...s, roles: s.roles.map(r) };
      case 'let': return s.by !== undefined ? { ...s, by: r(s.by) } : s;
      default: return s;
    }
  });
}
