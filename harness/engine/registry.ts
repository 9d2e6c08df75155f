/**
 * Finds protocols by folder, and loads each one only when asked (a run of
 * one protocol never loads another): `suites/<name>/index.ts` exports `suite`
 * (a {@link ProtocolSuite}); `reference-server/<name>/index.ts`, when it
 * exists, exports `startReferenceServer`; `reference-server/<name>/client/index.ts`,
 * when it exists, exports `runClient` (a {@link RunReferenceClient}).
 * Adding a protocol is adding folders; nothing here names one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ConnectOptions } from '../drivers/types.js';
import type { ProtocolSuite, ReferenceServerOptions, RunningServer } from './types.js';
import type { ServerCore } from './server-core.js';
import { UsageError } from './errors.js';

/**
 * Root of the running code: the folder holding `harness/`, `suites/` and
 * `reference-server/` as modules. The project root in a development checkout
 * (TypeScript run by tsx); `dist/` in an installed package (compiled
 * JavaScript, `npm run build`).
 */
export const codeRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Project root: the package's folder (holding `package.json`, `fixtures/`
 * and each `suites/<name>/SPEC.md`). Equal to {@link codeRoot} in a
 * development checkout, its parent when running from `dist/`.
 */
export const projectRoot: string = existsSync(path.join(codeRoot, 'package.json')) ? codeRoot : path.dirname(path.resolve(codeRoot));

/** Extension of the running modules: `.ts` under tsx, `.js` when compiled. */
const EXT = path.extname(fileURLToPath(import.meta.url));

/** Starts a protocol's reference server in-process. */
export type StartReferenceServer = (opts: ReferenceServerOptions<object>) => Promise<RunningServer>;

/** Creates a protocol's reference server core (Sans-I/O, no sockets), optionally with a deliberate fault. */
export type CreateReferenceCore = (opts: { readonly profile?: Partial<object>; readonly fault?: string }) => ServerCore;

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
export type RunReferenceClient = (opts: ReferenceClientOptions<object>) => Promise<number>;

/** What a protocol name (and its folder names) must look like: lower-case letters, digits, hyphens; a letter first. */
export const PROTOCOL_NAME = /^[a-z][a-z0-9-]*$/;

function moduleFile(kind: 'suites' | 'reference-server' | 'reference-client' | 'reference-faults', name: string): string {
  if (kind === 'reference-client') return path.join(codeRoot, 'reference-server', name, 'client', `index${EXT}`);
  if (kind === 'reference-faults') return path.join(codeRoot, 'reference-server', name, `faults${EXT}`);
  return path.join(codeRoot, kind, name, `index${EXT}`);
}

/** Names of every protocol with a suite folder, sorted (reads folder names only; loads no protocol). */
export function listProtocols(): string[] {
  const dir = path.join(codeRoot, 'suites');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && PROTOCOL_NAME.test(d.name) && existsSync(moduleFile('suites', d.name)))
    .map((d) => d.name)
    .sort();
}

/**
 * Loads a protocol's suite.
 * @throws UsageError when no such protocol exists (the message lists the known ones).
 */
export async function loadSuite(name: string): Promise<ProtocolSuite<object>> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('suites', name))) {
    throw new UsageError(`--protocol ${JSON.stringify(name)}: unknown protocol; known: ${listProtocols().join(', ') || 'none'}`);
  }
  const mod = (await import(pathToFileURL(moduleFile('suites', name)).href)) as { suite?: ProtocolSuite<object> };
  if (!mod.suite || mod.suite.name !== name) {
    throw new Error(`suites/${name}/index.ts must export \`suite\` with name "${name}"`);
  }
  return mod.suite;
}

/** Loads a protocol's reference server starter, or undefined when the protocol has none. */
export async function loadReferenceServer(name: string): Promise<StartReferenceServer | undefined> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('reference-server', name))) return undefined;
  const mod = (await import(pathToFileURL(moduleFile('reference-server', name)).href)) as { startReferenceServer?: StartReferenceServer };
  return mod.startReferenceServer;
}

/**
 * Loads a protocol's reference server core (`reference-server/<name>/index.ts`,
 * export `createReferenceCore`), or undefined when the protocol has none.
 */
export async function loadReferenceCore(name: string): Promise<CreateReferenceCore | undefined> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('reference-server', name))) return undefined;
  const mod = (await import(pathToFileURL(moduleFile('reference-server', name)).href)) as { createReferenceCore?: CreateReferenceCore };
  return mod.createReferenceCore;
}

/**
 * Loads a protocol's reference client (`reference-server/<name>/client/index.ts`,
 * export `runClient`), or undefined when the protocol has none.
 */
export async function loadReferenceClient(name: string): Promise<RunReferenceClient | undefined> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('reference-client', name))) return undefined;
  const mod = (await import(pathToFileURL(moduleFile('reference-client', name)).href)) as { runClient?: RunReferenceClient };
  return mod.runClient;
}

/** A deliberate fault of a reference server (`reference-server/<name>/faults.ts`, export `faults`). */
export interface FaultDescription {
  /** One line: what the faulty server does wrong. */
  readonly description: string;
}

/**
 * Loads the deliberate faults of a protocol's reference server
 * (`reference-server/<name>/faults.ts`, export `faults`), by fault name;
 * empty when the protocol has none.
 */
export async function loadReferenceFaults(name: string): Promise<Readonly<Record<string, FaultDescription>>> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('reference-faults', name))) return {};
  const mod = (await import(pathToFileURL(moduleFile('reference-faults', name)).href)) as { faults?: Record<string, FaultDescription> };
  return mod.faults ?? {};
}
