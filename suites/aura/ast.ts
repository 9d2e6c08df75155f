/**
 * The typed AST of an Aura choreography file (suites/aura/SPEC.md §2).
 * Every node carries its source position (1-based line and column).
 */

/** A source position: 1-based line and column (columns count UTF-16 code units). */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** An expression, kept as source text plus the variables it reads (SPEC §2, last paragraph). */
export interface Expr {
  readonly text: string;
  /** Names read by the expression (not paths, not called function names, not fields after a dot). */
  readonly vars: readonly string[];
  /** Set when the expression is an integer literal. */
  readonly int?: number;
  readonly pos: Pos;
}

/** A message field `name` or `name: type`. */
export interface Field {
  readonly name: string;
  readonly type?: string;
  readonly pos: Pos;
}

/** `A -> B: Label(fields);` */
export interface MessageStmt {
  readonly kind: 'message';
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly fields: readonly Field[];
  readonly pos: Pos;
}

/** `A: Action(args);` — a local action of one role (no event). */
export interface ActionStmt {
  readonly kind: 'action';
  readonly role: string;
  readonly name: string;
  readonly args: readonly Expr[];
  readonly pos: Pos;
}

/** One arm of a `match`. */
export interface MatchArm {
  readonly patterns: readonly string[];
  readonly body: readonly Stmt[];
  readonly pos: Pos;
}

/** `match expr [at R] { pat => body, … }` */
export interface MatchStmt {
  readonly kind: 'match';
  readonly subject: Expr;
  readonly at?: string;
  readonly arms: readonly MatchArm[];
  readonly pos: Pos;
}

/** `choice at R { … } or { … }` */
export interface ChoiceStmt {
  readonly kind: 'choice';
  readonly at: string;
  readonly branches: readonly (readonly Stmt[])[];
  readonly pos: Pos;
}

/** `if cond { … } [else { … }]` */
export interface IfStmt {
  readonly kind: 'if';
  readonly cond: Expr;
  readonly then: readonly Stmt[];
  readonly else: readonly Stmt[];
  readonly pos: Pos;
}

/** `parallel { b1 b2 … }` — each entry is one branch. */
export interface ParallelStmt {
  readonly kind: 'parallel';
  readonly branches: readonly (readonly Stmt[])[];
  readonly pos: Pos;
}

/** `barrier;` */
export interface BarrierStmt {
  readonly kind: 'barrier';
  readonly pos: Pos;
}

/** `loop { … }` */
export interface LoopStmt {
  readonly kind: 'loop';
  readonly body: readonly Stmt[];
  readonly pos: Pos;
}

/** `break;` or `break if cond;` */
export interface BreakStmt {
  readonly kind: 'break';
  readonly cond?: Expr;
  readonly pos: Pos;
}

/** `continue;` */
export interface ContinueStmt {
  readonly kind: 'continue';
  readonly pos: Pos;
}

/** `for v in from..to { … }` (`inclusive` for `..=`). */
export interface ForStmt {
  readonly kind: 'for';
  readonly var: string;
  readonly from: Expr;
  readonly to: Expr;
  readonly inclusive: boolean;
  readonly body: readonly Stmt[];
  readonly pos: Pos;
}

/** `timeout(d) { body } or { handler }` — `ms` is the duration in milliseconds. */
export interface TimeoutStmt {
  readonly kind: 'timeout';
  readonly ms: number;
  readonly durationText: string;
  readonly body: readonly Stmt[];
  readonly handler: readonly Stmt[];
  readonly pos: Pos;
}

/** `try { forward } compensate { compensation }` */
export interface TryStmt {
  readonly kind: 'try';
  readonly body: readonly Stmt[];
  readonly compensate: readonly Stmt[];
  readonly compensatePos: Pos;
  readonly pos: Pos;
}

/** `compose P(R1, R2);` */
export interface ComposeStmt {
  readonly kind: 'compose';
  readonly protocol: string;
  readonly roles: readonly string[];
  readonly pos: Pos;
}

/** `let x = expr [by R];` */
export interface LetStmt {
  readonly kind: 'let';
  readonly name: string;
  readonly value: Expr;
  readonly by?: string;
  readonly pos: Pos;
}

/** Any statement. */
export type Stmt =
  | MessageStmt
  | ActionStmt
  | MatchStmt
  | ChoiceStmt
  | IfStmt
  | ParallelStmt
  | BarrierStmt
  | LoopStmt
  | BreakStmt
  | ContinueStmt
  | ForStmt
  | TimeoutStmt
  | TryStmt
  | ComposeStmt
  | LetStmt;

/** `protocol Name { roles: …; body }` */
export interface ProtocolDecl {
  readonly name: string;
  readonly roles: readonly { readonly name: string; readonly pos: Pos }[];
  readonly body: readonly Stmt[];
  readonly pos: Pos;
}

/** A parsed file: its protocols, the first being the main one (SPEC AURA-1.1). */
export interface AuraFile {
  readonly file: string;
  readonly protocols: readonly ProtocolDecl[];
}
