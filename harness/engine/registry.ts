/**
 * Finds protocols by folder, and loads each one only when asked (a run of
 * one protocol never loads another): `suites/<name>/index.ts` exports `suite`
 * (a {@link ProtocolSuite}), and optionally `suites/<name>/monitor-suite.ts`
 * its profile and monitor alone (`monitorSuite`, a {@link MonitorSuite}, what
 * validation loads); `reference-server/<name>/index.ts`, when it
 * exists, exports `reference` (a {@link ReferenceImplementation}: server,
 * Sans-I/O core, faults, and a loader of the reference client).
 * Adding a protocol is adding folders; nothing here names one. Protocols
 * may also live in other roots ({@link PROTOCOL_PATH_ENV}).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { MonitorSuite, ProtocolSuite } from './types.js';
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
 * Environment variable naming extra protocol roots, separated like `PATH`
 * (`:` on POSIX). Each root is laid out as this project is: a protocol
 * `NAME` is `ROOT/suites/NAME/index.ts|js` (export `suite`) with, optionally,
 * `ROOT/reference-server/NAME/index.ts|js` (export `reference`),
 * `ROOT/suites/NAME/SPEC.md` and `ROOT/fixtures/NAME/`. Protocols of this
 * project come first; a name already found is not looked up further. This
 * is how a protocol kept outside this repository (a user's own, or the
 * project's test protocol under `test/toy`) is run with no edit here.
 */
export const PROTOCOL_PATH_ENV = 'WIRECHECK_PROTOCOL_PATH';

/** A protocol root: where its modules are, and where its data files (SPEC.md, fixtures) are. */
interface Root {
  readonly code: string;
  readonly project: string;
}

/** The protocol roots in search order: this project's, then those of {@link PROTOCOL_PATH_ENV}. */
function roots(): Root[] {
  const extra = (process.env[PROTOCOL_PATH_ENV] ?? '').split(path.delimiter).filter((r) => r !== '').map((r) => path.resolve(r));
  return [{ code: codeRoot, project: projectRoot }, ...extra.map((r) => ({ code: r, project: r }))];
}

/** Module extensions tried, the running one first (a root may hold TypeScript or compiled JavaScript). */
const EXTS = EXT === '.ts' ? ['.ts', '.js'] : ['.js', '.ts'];

/**
 * The module of each kind of a protocol and the root it is in: its suite
 * (`suites/<name>/index`, export `suite`) or its reference implementation
 * (`reference-server/<name>/index`, export `reference`); undefined when no
 * root has it.
 */
function findModule(kind: 'suites' | 'reference-server', name: string): { readonly file: string; readonly root: Root } | undefined {
  if (!PROTOCOL_NAME.test(name)) return undefined;
  for (const root of roots()) {
    for (const ext of EXTS) {
      const file = path.join(root.code, kind, name, `index${ext}`);
      if (existsSync(file)) return { file, root };
    }
  }
  return undefined;
}

/**
 * The project folder a protocol's data files are relative to
 * (`suites/<name>/SPEC.md`, `fixtures/<name>/`): this project's root, or
 * the extra root the protocol was found in.
 */
export function protocolRoot(name: string): string {
  return findModule('suites', name)?.root.project ?? projectRoot;
}

/** Names of every protocol with a suite folder in any root, sorted (reads folder names only; loads no protocol). */
export function listProtocols(): string[] {
  const names = new Set<string>();
  for (const root of roots()) {
    const dir = path.join(root.code, 'suites');
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory() && findModule('suites', d.name) !== undefined) names.add(d.name);
  }
  return [...names].sort();
}

/**
 * Loads a protocol's suite.
 * @throws UsageError when no such protocol exists (the message lists the known ones).
 */
export async function loadSuite(name: string): Promise<ProtocolSuite<object>> {
  const found = findModule('suites', name);
  if (found === undefined) {
    throw new UsageError(`--protocol ${JSON.stringify(name)}: unknown protocol; known: ${listProtocols().join(', ') || 'none'}`);
  }
  const mod = (await import(pathToFileURL(found.file).href)) as { suite?: ProtocolSuite<object> };
  if (!mod.suite || mod.suite.name !== name) {
    throw new Error(`suites/${name}/index.ts must export \`suite\` with name "${name}"`);
  }
  return mod.suite;
}

/**
 * Loads what judges a protocol's traces (profile and monitor): the
 * `monitorSuite` of `suites/<name>/monitor-suite.ts|js` beside the suite's
 * `index` when the folder has one (so validation loads no case, probe or
 * discovery module), else the whole suite.
 * @throws UsageError when no such protocol exists; Error when the module does not export `monitorSuite` for this protocol.
 */
export async function loadMonitorSuite(name: string): Promise<MonitorSuite<object>> {
  const found = findModule('suites', name);
  if (found === undefined) return loadSuite(name);
  const file = path.join(path.dirname(found.file), `monitor-suite${path.extname(found.file)}`);
  if (!existsSync(file)) return loadSuite(name);
  const mod = (await import(pathToFileURL(file).href)) as { monitorSuite?: MonitorSuite<object> };
  if (!mod.monitorSuite || mod.monitorSuite.name !== name || typeof mod.monitorSuite.createMonitor !== 'function') {
    throw new Error(`suites/${name}/monitor-suite.ts must export \`monitorSuite\` with name "${name}"`);
  }
  return mod.monitorSuite;
}

/**
 * Loads a protocol's reference implementation (server, core, faults,
 * client), or undefined when the protocol has none.
 * @throws Error when the module exists but does not export `reference` for this protocol.
 */
export async function loadReference(name: string): Promise<ReferenceImplementation<object> | undefined> {
  const found = findModule('reference-server', name);
  if (found === undefined) return undefined;
  const mod = (await import(pathToFileURL(found.file).href)) as { reference?: ReferenceImplementation<object> };
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
