/**
 * `wirecheck init PROTOCOL` (harness/init): the folders it writes into a
 * project typecheck, and the generated suite (its case and its fixture)
 * passes against the generated reference server, in-process over the
 * memory driver and over loopback TCP; a server that breaks the generated
 * rule fails it; existing folders and bad names are refused.
 *
 * The project is a scratch folder whose `harness/` and `node_modules/` are
 * links to this checkout's, so that the generated files' relative imports
 * resolve as they do in the checkout.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli } from '../_support/cli.js';
import { driverFor } from '../../harness/drivers/index.js';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { realClock } from '../../harness/engine/clock.js';
import type { CreateReferenceCore, StartReferenceServer } from '../../harness/engine/registry.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { ProtocolSuite, RunResult } from '../../harness/engine/types.js';
import { fixtureCasesFor } from '../../harness/fixtures/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-init-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await symlink(path.join(root, 'harness'), path.join(dir, 'harness'), 'dir');
await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
await writeFile(path.join(dir, 'package.json'), '{ "name": "scratch", "private": true, "type": "module" }\n');
const tsconfig = JSON.parse(await readFile(path.join(root, 'tsconfig.json'), 'utf8')) as Record<string, unknown>;
await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['suites', 'reference-server'] }, null, 2));

const NAME = 'my-echo';

const made = await cli('init', NAME, '--dir', dir);

t.test('init writes the protocol folders', async (t) => {
  t.equal(made.code, 0, made.err);
  for (const f of [`suites/${NAME}/SPEC.md`, `suites/${NAME}/index.ts`, `suites/${NAME}/monitor-suite.ts`, `suites/${NAME}/codec.ts`, `suites/${NAME}/model.ts`, `suites/${NAME}/profile.schema.json`, `suites/${NAME}/cases/03-echo.ts`, `fixtures/${NAME}/echo-two-frames.json`, `reference-server/${NAME}/core.ts`, `reference-server/${NAME}/index.ts`]) {
    t.ok(existsSync(path.join(dir, f)), f);
    t.match(made.out, f, `${f} listed`);
  }
  const spec = await readFile(path.join(dir, 'suites', NAME, 'SPEC.md'), 'utf8');
  t.same([...spec.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]), ['1', '2', '3'], 'numbered sections');
  const ids = [...spec.matchAll(/\*\*(MYECHO-\d+\.\d+)\*\*/g)].map((m) => m[1]);
  t.ok(ids.length >= 3, `rule ids ${ids.join(', ')}`);
  t.notMatch(spec + (await readFile(path.join(dir, 'suites', NAME, 'index.ts'), 'utf8')), /__(name|NAME|Name|camel|Title)__/, 'every placeholder filled');
});

t.test('the generated files typecheck (tsc --noEmit, the project options)', async (t) => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const child = spawn(process.execPath, [tsc, '--noEmit', '-p', path.join(dir, 'tsconfig.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  t.equal(code, 0, `tsc: ${out.slice(0, 3000)}`);
});

const { suite } = (await import(pathToFileURL(path.join(dir, 'suites', NAME, 'index.ts')).href)) as { suite: ProtocolSuite<object> };
const server = (await import(pathToFileURL(path.join(dir, 'reference-server', NAME, 'index.ts')).href)) as { createReferenceCore: CreateReferenceCore; startReferenceServer: StartReferenceServer };
const withFixtures: ProtocolSuite<object> = { ...suite, cases: [...suite.cases, ...(await fixtureCasesFor(suite, path.join(dir, 'fixtures')))] };

async function inProcess(core: ServerCore): Promise<RunResult> {
  const mem = createMemoryTarget({ core, clock: realClock, transport: 'tcp' });
  try {
    return await runSuite({ suite: withFixtures, driver: mem.driver, targetUrl: `memory:${NAME}`, connect: mem.connect, profile: suite.fastProfile, probeDeadlineMs: 5_000 });
  } finally {
    mem.stop();
  }
}

t.test('the generated case and fixture pass against the generated reference core, in-process', async (t) => {
  t.equal(suite.name, NAME);
  const r = await inProcess(server.createReferenceCore({ profile: suite.fastProfile }));
  t.same(r.cases.map((c) => [c.id, c.verdict]), [
    [`${NAME}/echo/single`, 'pass'],
    [`${NAME}/fixture/echo-two-frames`, 'pass'],
  ]);
  t.ok(r.probes.every((p) => p.ok), 'probes pass');
});

t.test('a core that echoes wrong bytes fails the generated rule (the check can fail)', async (t) => {
  const good = server.createReferenceCore({ profile: suite.fastProfile });
  // The last byte of every send flipped: the probe's answer is judged wrong (a failing sanity-probe case), every case sees a wrong echo.
  const flip = (b: Uint8Array) => b.map((x, i) => (i === b.length - 1 ? x ^ 0xff : x));
  const wrong: ServerCore = {
    sendTimeoutMs: undefined,
    handle: (ev) => good.handle(ev),
    sendStalled: (c, s, at) => good.sendStalled(c, s, at),
    poll: (at) => good.poll(at).map((a) => (a.type === 'send' ? { ...a, bytes: flip(a.bytes) } : a)),
    nextTimer: () => good.nextTimer(),
  };
  const r = await inProcess(wrong);
  t.equal(r.cases.length, 3, 'the sanity probe, the case and the fixture');
  for (const c of r.cases) {
    t.equal(c.verdict, 'fail', `${c.id} fails (${c.verdict}: ${c.message ?? ''})`);
    t.equal(c.rule, 'MYECHO-3.1', `${c.id}: under MYECHO-3.1`);
  }
});

t.test('the generated reference server serves the suite over loopback TCP', async (t) => {
  const running = await server.startReferenceServer({ profile: suite.fastProfile });
  t.teardown(() => running.stop());
  const r = await runSuite({ suite: withFixtures, driver: driverFor('tcp'), targetUrl: `tcp://${running.host}:${running.port}`, connect: { host: running.host, port: running.port, connectTimeoutMs: 3_000 }, profile: suite.fastProfile, probeDeadlineMs: 5_000 });
  t.same(r.cases.map((c) => c.verdict), ['pass', 'pass']);
});

t.test('init refuses existing folders and bad names, writing nothing', async (t) => {
  const again = await cli('init', NAME, '--dir', dir);
  t.equal(again.code, 2);
  t.match(again.err, new RegExp(`suites/${NAME}.*already exist.*nothing written`));
  for (const bad of ['My', '9lives', 'a_b', 'x-', '']) {
    const r = await cli('init', bad, '--dir', dir);
    t.equal(r.code, 2, `${JSON.stringify(bad)} refused`);
  }
  t.notOk(existsSync(path.join(dir, 'suites', 'x-')), 'nothing written for a bad name');
});
