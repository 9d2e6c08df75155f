/**
 * Finds protocols by folder: `suites/<name>/index.ts` exports `suite`
 * (a {@link ProtocolSuite}); `reference-server/<name>/index.ts`, when it
 * exists, exports `startReferenceServer`. Adding a protocol is adding
 * folders; nothing here names one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ProtocolSuite, ReferenceServerOptions, RunningServer } from './types.js';
import { UsageError } from './errors.js';

/** Project root (the folder holding `suites/`). */
export const projectRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Starts a protocol's reference server in-process. */
export type StartReferenceServer = (opts: ReferenceServerOptions<object>) => Promise<RunningServer>;

const NAME = /^[a-z][a-z0-9-]*$/;

function moduleFile(kind: 'suites' | 'reference-server', name: string): string {
  return path.join(projectRoot, kind, name, 'index.ts');
}

/** Names of every protocol with a suite folder, sorted. */
export function listProtocols(): string[] {
  const dir = path.join(projectRoot, 'suites');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && NAME.test(d.name) && existsSync(moduleFile('suites', d.name)))
    .map((d) => d.name)
    .sort();
}

/**
 * Loads a protocol's suite.
 * @throws UsageError when no such protocol exists (the message lists the known ones).
 */
export async function loadSuite(name: string): Promise<ProtocolSuite<object>> {
  if (!NAME.test(name) || !existsSync(moduleFile('suites', name))) {
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
  if (!NAME.test(name) || !existsSync(moduleFile('reference-server', name))) return undefined;
  const mod = (await import(pathToFileURL(moduleFile('reference-server', name)).href)) as { startReferenceServer?: StartReferenceServer };
  return mod.startReferenceServer;
}
