/**
 * The contract between the engine and a protocol's reference
 * implementation (`reference-server/<name>/index.ts` exports `reference`):
 * its server on a real transport, its Sans-I/O server core alone (for
 * in-process runs on the virtual clock), its deliberate faults, and its
 * reference client. Everything is typed by the protocol's profile `P`; the
 * registry (registry.ts) hands it to the engine, which names no protocol.
 */
import type { ConnectOptions } from '../drivers/types.js';
import type { ServerCore } from './server-core.js';
import type { ReferenceServerOptions, RunningServer } from './types.js';

/**
 * A deliberate fault of a reference server: the one shape for every
 * protocol. A fault builds the core that misbehaves (usually the conforming
 * core wrapped so that it rewrites, drops or adds actions), so the
 * project's tests can show the suite catches it and users can see what a
 * failure looks like (`wirecheck serve NAME --fault FAULT`).
 */
export interface ReferenceFault<P extends object> {
  /** What it breaks, in one line, with the rule ids (e.g. `acknowledges event id + 1 (PROTON-4.3)`). */
  readonly description: string;
  /** Builds the faulty core for a (complete, checked) profile. */
  create(profile: P): ServerCore;
}

/** Options of a reference server: the engine's, and a deliberate fault by name. */
export interface ReferenceServerStartOptions<P extends object> extends ReferenceServerOptions<P> {
  /** Name of a deliberate fault (a key of {@link ReferenceImplementation.faults}). */
  readonly fault?: string;
}

/** Options every reference client understands (`wirecheck client <protocol>`). */
export interface ReferenceClientOptions<P> {
  /** Target and TLS options; the protocol's profile-implied ones (ALPN, idle timeout) already merged in. */
  readonly connect: ConnectOptions;
  /** The target's timers and choices. */
  readonly profile: P;
  /** Target URL as given, normalised (for messages). */
  readonly targetUrl?: string;
  /** Commands to run non-interactively; interactive when absent. */
  readonly exec?: string;
  /** Output sinks (text is newline-terminated by the client). */
  readonly io: { out(text: string): void; err(text: string): void };
  /** Interactive input (default stdin). */
  readonly input?: NodeJS.ReadableStream;
}

/**
 * Runs a protocol's reference client (a REPL, or `exec` commands).
 * Resolves with the exit code: 0 every command succeeded, 1 some failed,
 * 2 the `exec` script did not parse.
 */
export type RunReferenceClient<P> = (opts: ReferenceClientOptions<P>) => Promise<number>;

/** What `reference-server/<name>/index.ts` exports as `reference`. */
export interface ReferenceImplementation<P extends object> {
  /** Protocol name (the suite's and the folder's). */
  readonly name: string;
  /**
   * Starts the reference server in-process on its transport (a free port
   * by default). Missing profile fields take the suite defaults.
   * @throws RangeError for an unknown fault or an inconsistent profile; the transport's bind errors.
   */
  startServer(opts: ReferenceServerStartOptions<P>): Promise<RunningServer>;
  /**
   * The reference server's Sans-I/O core alone (no sockets), conforming or
   * with a fault, for in-process runs over the memory driver.
   * @throws RangeError for an unknown fault or an inconsistent profile.
   */
  createCore(opts: { readonly profile?: Partial<P>; readonly fault?: string }): ServerCore;
  /** The deliberate faults, by name (kebab-case, as `--fault` takes them). */
  readonly faults: Readonly<Record<string, ReferenceFault<P>>>;
  /** Loads the reference client (kept apart so that serving never loads it); absent when the protocol has none. */
  loadClient?(): Promise<RunReferenceClient<P>>;
}

/**
 * Resolves a fault by name in `faults`.
 * @throws RangeError naming the unknown fault and the known ones.
 */
export function faultByName<P extends object>(faults: Readonly<Record<string, ReferenceFault<P>>>, name: string | undefined): ReferenceFault<P> | undefined {
  if (name === undefined) return undefined;
  const f = faults[name];
  if (!f) throw new RangeError(`unknown fault ${JSON.stringify(name)}; known: ${Object.keys(faults).join(', ')}`);
  return f;
}

/**
 * A reference implementation's profile: `defaults` (the seed's) with the
 * fields of `partial`, checked with the suite's cross-field check.
 * @param what what the profile is for, in the error (`server`, `core`).
 * @throws RangeError naming the protocol and each inconsistent field.
 */
export function completeProfile<P extends object>(protocol: string, defaults: P, check: (p: P) => string[], partial: Partial<P> | undefined, what: string): P {
  const profile: P = { ...defaults, ...partial };
  const problems = check(profile);
  if (problems.length) throw new RangeError(`${protocol} ${what} profile: ${problems.join('; ')}`);
  return profile;
}
