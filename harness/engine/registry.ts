/**
 * Finds protocols by folder, and loads each one only when asked (a run of
 * one protocol never loads another): `suites/<name>/index.ts` exports `suite`
 * (a {@link ProtocolSuite}); `reference-server/<name>/index.ts`, when it
 * exists, exports `reference` (a {@link ReferenceImplementation}: server,
 * Sans-I/O core, faults, and a loader of the reference client).
 * Adding a protocol is adding folders; nothing here names one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ProtocolSuite } from './types.js';
import type { ReferenceFault, ReferenceImplementation, RunReferenceClient } from './reference.js';
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

export type { ReferenceClientOptions, ReferenceImplementation, RunReferenceClient } from './reference.js';

/** Starts a protocol's reference server in-process. */
export type StartReferenceServer = ReferenceImplementation<object>['startServer'];

/** Creates a protocol's reference server core (Sans-I/O, no sockets), optionally with a deliberate fault. */
export type CreateReferenceCore = ReferenceImplementation<object>['createCore'];

/** What a protocol name (and its folder names) must look like: lower-case letters, digits, hyphens; a letter first. */
export const PROTOCOL_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * The module of each kind of a protocol: its suite (`suites/<name>/index`,
 * export `suite`) and its reference implementation
 * (`reference-server/<name>/index`, export `reference`).
 */
function moduleFile(kind: 'suites' | 'reference-server', name: string): string {
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

/**
 * Loads a protocol's reference implementation (server, core, faults,
 * client), or undefined when the protocol has none.
 * @throws Error when the module exists but does not export `reference` for this protocol.
 */
export async function loadReference(name: string): Promise<ReferenceImplementation<object> | undefined> {
  if (!PROTOCOL_NAME.test(name) || !existsSync(moduleFile('reference-server', name))) return undefined;
  const mod = (await import(pathToFileURL(moduleFile('reference-server', name)).href)) as { reference?: ReferenceImplementation<object> };
  const ref = mod.reference;
  if (!ref || ref.name !== name || typeof ref.startServer !== 'function' || typeof ref.createCore !== 'function' || typeof ref.faults !== 'object') {
    throw new Error(`reference-server/${name}/index.ts must export \`reference\` (a ReferenceImplementation) with name "${name}"`);
  }
  return ref;
}

/** Loads a protocol's reference server starter, or undefined when the protocol has none. */
export async function loadReferenceServer(name: string): Promise<StartReferenceServer | undefined> {
  const ref = await loadReference(name);
  return ref ? (opts) => ref.startServer(opts) : undefined;
}

/** Loads a protocol's reference server core, or undefined when the protocol has none. */
export async function loadReferenceCore(name: string): Promise<CreateReferenceCore | undefined> {
  const ref = await loadReference(name);
  return ref ? (opts) => ref.createCore(opts) : undefined;
}

/** Loads a protocol's reference client, or undefined when the protocol has none. */
export async function loadReferenceClient(name: string): Promise<RunReferenceClient<object> | undefined> {
  return (await loadReference(name))?.loadClient?.();
}

/** The deliberate faults of a protocol's reference server (the engine's one fault shape), by name; empty when it has none. */
export async function loadReferenceFaults(name: string): Promise<Readonly<Record<string, ReferenceFault<object>>>> {
  return (await loadReference(name))?.faults ?? {};
}
