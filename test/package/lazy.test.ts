/**
 * The CLI loads lazily (README "Startup"): `--help` loads no command module,
 * `run --protocol proton` loads Proton only (no fast-check, no fuzz
 * generators, no other protocol), `validate` no transport and no runner, and the help listed before a command's
 * module is loaded is the help the module registers.
 *
 * Which modules a start loads is seen by a module resolve hook
 * (node:module `register`) in a child process that appends every resolved
 * URL to a file.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { commands, registerCommands } from '../../harness/cli.js';

const bin = fileURLToPath(new URL('../../bin/wirecheck.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-lazy-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const hooks = path.join(dir, 'hooks.mjs');
await writeFile(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.WIRECHECK_TEST_LOADED, r.url + '\\n');
  return r;
}
`,
);
const registerHooks = path.join(dir, 'register.mjs');
await writeFile(registerHooks, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

let runs = 0;
/** Runs bin/wirecheck.js on the TypeScript sources (tsx) with the hook; resolves with the exit code and the URLs resolved. */
async function loaded(...argv: string[]): Promise<{ code: number | null; urls: string[]; err: string }> {
  const log = path.join(dir, `loaded-${++runs}.txt`);
  await writeFile(log, '');
  const child = spawn(process.execPath, ['--import', registerHooks, bin, ...argv], {
    env: { ...process.env, WIRECHECK_SOURCES: '1', WIRECHECK_TEST_LOADED: log },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean), err };
}

/** A loopback UDP-free port with nothing listening on TCP or (most likely) UDP: taken, then freed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const is = (re: RegExp) => (urls: readonly string[]) => urls.filter((u) => re.test(u));
const fastCheck = is(/\/node_modules\/fast-check\//);
const fuzzModules = is(/\/(harness\/fuzz|suites\/[^/]+\/fuzz)\/|\/suites\/[^/]+\/arbitraries\.[tj]s$/);
const commandModules = is(/\/harness\/cli\/[^/]+\.[tj]s$/);
const suiteModules = (name: string) => is(new RegExp(`/suites/${name}/`));

t.test('--help loads commander and no command module', async (t) => {
  const r = await loaded('--help');
  t.equal(r.code, 0, r.err);
  t.ok(r.urls.some((u) => /\/harness\/cli\.ts$/.test(u)), 'the hook saw the CLI entry');
  t.same(commandModules(r.urls), [], 'no harness/cli/<command> module');
  t.same(suiteModules('[^/]+')(r.urls), [], 'no protocol');
});

t.test('validate loads what validation needs: the monitor suite, no case, no transport, no runner or reporters, no other protocol', async (t) => {
  const r = await loaded('validate', fileURLToPath(new URL('../../fixtures/proton/traces/ok-action.jsonl', import.meta.url)));
  t.equal(r.code, 0, r.err);
  t.ok(r.urls.some((u) => u.endsWith('/suites/proton/monitor-suite.ts')), "Proton's monitor suite loaded");
  t.same(is(/\/suites\/proton\/(index|cases\/.*|probe|discover)\.ts$/)(r.urls), [], 'not the whole suite: no case, no probe, no discovery');
  t.same(is(/\/harness\/(drivers|quic|tcp)\/|\/node_modules\/@matrixai\//)(r.urls), [], 'no driver, no QUIC library');
  t.same(commandModules(r.urls).filter((u) => !/\/cli\/(validate|args)\.ts$/.test(u)), [], 'no other command module (common.ts neither: its runner and reporters)');
  t.same(suiteModules('(?!proton/)[^/]+')(r.urls), [], 'no other protocol');
});

t.test('run --protocol proton loads Proton only: no fast-check, no fuzz generators, no other protocol', async (t) => {
  const port = await closedPort();
  const r = await loaded('run', '--protocol', 'proton', '--target', `quic://127.0.0.1:${port}`, '--connect-timeout', '200', '--cases', 'proton/event/single', '--no-fixtures', '--quiet', '--reporter', 'json', '--out', path.join(dir, 'reports'));
  t.equal(r.code, 3, `exit 3: nothing listening (${r.err.slice(0, 300)})`);
  t.ok(suiteModules('proton')(r.urls).some((u) => u.endsWith('/suites/proton/index.ts')), 'Proton suite loaded');
  t.ok(r.urls.some((u) => u.endsWith('/harness/cli/run.ts')), 'the run command loaded');
  t.same(fastCheck(r.urls), [], 'fast-check not loaded');
  t.same(fuzzModules(r.urls), [], 'no fuzz module');
  t.same(suiteModules('(?!proton/)[^/]+')(r.urls), [], 'no other protocol');
  t.same(commandModules(r.urls).filter((u) => !/\/cli\/(run|common|args|outputs|baseline|save-failures)\.ts$/.test(u)), [], 'no other command module');
});

t.test('the check can fail: fuzz loads fast-check and the generators', async (t) => {
  const r = await loaded('fuzz', '--protocol', 'proton', '--in-process', '--fast', '--runs', '1', '--arbitraries', 'discriminators', '--quiet', '--reporter', 'json', '--out', path.join(dir, 'fuzz'));
  t.not(r.code, null, 'exited');
  t.not(fastCheck(r.urls).length, 0, 'fast-check loaded');
  t.ok(r.urls.some((u) => u.endsWith('/suites/proton/arbitraries.ts')), 'the generators loaded');
});

t.test('the commands --help lists before loading them are the ones their modules register', async (t) => {
  const help = async (all: boolean): Promise<string> => {
    const program = new Command('wirecheck').description('d').version('0');
    await registerCommands({ program, io: { out: () => undefined, err: () => undefined }, argv: [], setExitCode: () => undefined }, all);
    return program.helpInformation();
  };
  const lazy = await help(false);
  t.equal(lazy, await help(true), 'same top-level help, stubs or modules');
  for (const c of commands) {
    t.match(lazy, c.name, `${c.name} listed`);
    const program = new Command('wirecheck');
    await registerCommands({ program, io: { out: () => undefined, err: () => undefined }, argv: [c.name], setExitCode: () => undefined });
    const cmd = program.commands.find((x) => x.name() === c.name);
    t.ok(cmd && cmd.options.length > 0, `${c.name}: the module registered the command with its options`);
  }
});
