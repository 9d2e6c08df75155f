/**
 * bin/wirecheck.js picks what to run (README "Startup"): the compiled
 * dist/ in an installed package (no sources beside it); in a development
 * checkout dist/ only while its build stamp (dist/.built) is at least as new
 * as every file under harness/, suites/ and reference-server/, else the
 * TypeScript sources through tsx; WIRECHECK_SOURCES=1 forces the sources.
 *
 * Played in a scratch layout whose two entries say which one ran.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-bin-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const at = (...p: string[]) => path.join(dir, ...p);
await mkdir(at('bin'));
await mkdir(at('dist', 'harness'), { recursive: true });
await mkdir(at('harness'));
await mkdir(at('suites', 'demo'), { recursive: true });
await copyFile(path.join(root, 'bin', 'wirecheck.js'), at('bin', 'wirecheck.js'));
await symlink(path.join(root, 'node_modules'), at('node_modules'), 'dir');
await writeFile(at('package.json'), '{ "name": "scratch", "type": "module" }\n');
await writeFile(at('dist', 'harness', 'cli.js'), "export function installProcessGuard() {}\nexport async function main(argv) { process.stdout.write(`dist ${argv.join(' ')}\\n`); return 0; }\n");
await writeFile(at('harness', 'cli.ts'), "export function installProcessGuard(): void {}\nexport async function main(argv: readonly string[]): Promise<number> { process.stdout.write(`sources ${argv.join(' ')}\\n`); return 0; }\n");
await writeFile(at('suites', 'demo', 'index.ts'), 'export {};\n');

const past = new Date(Date.now() - 60_000);
const now = new Date();
for (const f of [at('harness', 'cli.ts'), at('suites', 'demo', 'index.ts'), at('suites', 'demo'), at('suites'), at('harness')]) await utimes(f, past, past);

function ran(env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [at('bin', 'wirecheck.js'), 'list'], { encoding: 'utf8', env: { ...process.env, WIRECHECK_SOURCES: '', ...env }, timeout: 60_000 });
  if (r.status !== 0) return `exit ${r.status ?? r.signal}: ${r.stderr}`;
  return r.stdout.trim();
}

t.test('development checkout', async (t) => {
  t.equal(ran(), 'sources list', 'no build stamp: the sources');
  await writeFile(at('dist', '.built'), '');
  await utimes(at('dist', '.built'), now, now);
  t.equal(ran(), 'dist list', 'stamp newer than every source: dist/');
  t.equal(ran({ WIRECHECK_SOURCES: '1' }), 'sources list', 'WIRECHECK_SOURCES=1: the sources');
  const later = new Date(now.getTime() + 5_000);
  await utimes(at('suites', 'demo', 'index.ts'), later, later);
  t.equal(ran(), 'sources list', 'a source edited after the build: the sources');
  await utimes(at('suites', 'demo', 'index.ts'), past, past);
  const rebuilt = new Date(Date.now() - 1_000);
  await utimes(at('dist', '.built'), rebuilt, rebuilt);
  t.equal(ran(), 'dist list', 'rebuilt: dist/ again');
  await writeFile(at('suites', 'demo', 'new.ts'), 'export {};\n');
  await utimes(at('suites', 'demo', 'new.ts'), past, past);
  t.equal(ran(), 'sources list', 'a file added after the build (its folder changed): the sources');
});

t.test('installed package: no sources beside dist/', async (t) => {
  await rm(at('harness'), { recursive: true });
  await rm(at('suites'), { recursive: true });
  await rm(at('dist', '.built'));
  t.equal(ran(), 'dist list', 'dist/, stamp or not');
  t.equal(ran({ WIRECHECK_SOURCES: '1' }), 'dist list', 'WIRECHECK_SOURCES has nothing to pick');
});
