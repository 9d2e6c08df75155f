/**
 * The published package works on its own (README "Startup"): `npm pack`
 * (whose `prepack` builds dist/) from a copy of the project, then, in an
 * empty folder, `npm install ./wirecheck-*.tgz` and `npx wirecheck
 * selftest`: the compiled JavaScript runs with the package's dependencies
 * only (no tsx, TypeScript or tap installed), finds its protocols, fixtures
 * and JSON schemas in the installed layout, and passes against its own
 * reference servers over QUIC and TCP.
 *
 * Dependencies come from npm's local cache when it has them
 * (`--prefer-offline`); the test is skipped, saying so, only when npm
 * cannot reach the registry for a missing one.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file's own deadlines (npm pack and npm install 240 s each, selftests 180 s each) add up to far more than tap's per-file
// timeout (package.json, 240 s), which a cold npm cache on a loaded CI machine can reach: tell tap this file's bound (25 min).
t.setTimeout(25 * 60_000);

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-pack-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs a command with a deadline (killed then, code null). */
async function sh(cmd: string, args: readonly string[], cwd: string, deadlineMs: number): Promise<Ran> {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', WIRECHECK_SOURCES: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out, err };
}

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|offline/i;

t.test('npm pack, npm install the tarball in an empty folder, npx wirecheck selftest', async (t) => {
  // A copy of the project: packing runs the build (prepack), which must not replace the dist/ other tests may be running.
  const src = path.join(dir, 'src');
  await mkdir(src);
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'scripts', 'bin', 'harness', 'suites', 'reference-server', 'fixtures', 'examples']) {
    if (existsSync(path.join(root, f))) await cp(path.join(root, f), path.join(src, f), { recursive: true });
  }
  await symlink(path.join(root, 'node_modules'), path.join(src, 'node_modules'), 'dir');

  const packed = await sh('npm', ['pack', '--pack-destination', dir], src, 240_000);
  t.equal(packed.code, 0, packed.code === 0 ? 'npm pack (builds dist/ in prepack)' : `npm pack: ${packed.err.slice(-2000)}`);
  const tgz = (await readdir(dir)).find((f) => /^wirecheck-.*\.tgz$/.test(f));
  if (!tgz) return t.fail('no wirecheck-*.tgz written');

  const app = path.join(dir, 'app');
  await mkdir(app);
  await writeFile(path.join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const installed = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tgz)], app, 240_000);
  if (installed.code !== 0 && NETWORK.test(installed.err)) {
    t.comment(`SKIPPED: npm could not reach the registry for a dependency missing from its cache: ${installed.err.split('\n').find((l) => NETWORK.test(l))}`);
    t.pass('skipped: registry unreachable (see the comment above)', { skip: 'npm registry unreachable' });
    return;
  }
  t.equal(installed.code, 0, installed.code === 0 ? `npm install ./${tgz}` : `npm install ./${tgz}: ${installed.err.slice(-2000)}`);

  const pkg = path.join(app, 'node_modules', 'wirecheck');
  t.ok(existsSync(path.join(pkg, 'dist', 'harness', 'cli.js')), 'the package holds the compiled CLI');
  t.notOk(existsSync(path.join(pkg, 'harness')), 'and no TypeScript sources');
  for (const f of ['harness/reports/report.schema.json', 'harness/fixtures/fixture.schema.json', 'suites/proton/profile.schema.json', 'suites/proton/SPEC.md', 'harness/init/templates/suites/__name__/model.ts.tmpl']) {
    t.ok(existsSync(path.join(pkg, 'dist', f)), `dist/${f} (next to its module)`);
  }
  for (const dev of ['tsx', 'typescript', 'tap']) t.notOk(existsSync(path.join(app, 'node_modules', dev)), `dev dependency ${dev} not installed`);

  const help = await sh('npx', ['--no-install', 'wirecheck', '--help'], app, 60_000);
  t.equal(help.code, 0, `npx wirecheck --help ${help.err}`);
  t.match(help.out, /Usage: wirecheck/, 'help printed');

  const list = await sh('npx', ['--no-install', 'wirecheck', 'list'], app, 60_000);
  t.equal(list.code, 0, `npx wirecheck list ${list.err}`);
  t.match(list.out, /proton\s+quic\s+\d+ cases\s+[1-9]\d* fixtures/, 'proton with its fixtures');
  t.match(list.out, /moonpool\s+tcp/, 'moonpool listed');

  // validate runs on the validators the build precompiled (harness/engine/precompiled.ts): no schema compiled at start-up.
  for (const f of ['harness/engine/trace-validators.cjs', 'harness/engine/profiles/proton.cjs']) t.ok(existsSync(path.join(pkg, 'dist', f)), `dist/${f} (precompiled validators)`);
  const traces = path.join(pkg, 'fixtures', 'proton', 'traces');
  const validated = await sh('npx', ['--no-install', 'wirecheck', 'validate', '--expect', path.join(traces, 'ok-action.jsonl'), path.join(traces, 'bad-ack-order.jsonl')], app, 60_000);
  t.equal(validated.code, 0, `npx wirecheck validate --expect: each trace as its header expects ${validated.err}`);
  t.match(validated.out, /PASS.*ok-action[\s\S]*FAIL.*bad-ack-order/, 'one passes, one fails');

  const init = await sh('npx', ['--no-install', 'wirecheck', 'init', 'demo', '--dir', 'checkout'], app, 60_000);
  t.equal(init.code, 0, `npx wirecheck init demo --dir checkout ${init.err}`);
  t.ok(existsSync(path.join(app, 'checkout', 'suites', 'demo', 'model.ts')), 'init writes from the templates in dist/');
  const noDir = await sh('npx', ['--no-install', 'wirecheck', 'init', 'demo2'], app, 60_000);
  t.equal(noDir.code, 2, 'init without --dir in an installed package is refused');
  t.match(noDir.err, /installed package: give --dir/, 'saying why');

  // One protocol per selftest: a checkout may hold more protocols (e.g. one from `wirecheck init`), which no case pattern here matches.
  const cases: Readonly<Record<string, string>> = { proton: 'proton/event/*,proton/fixture/event-single', moonpool: 'moonpool/envelope/*,moonpool/fixture/ping' };
  for (const [protocol, pattern] of Object.entries(cases)) {
    const out = path.join('reports', protocol);
    const self = await sh('npx', ['--no-install', 'wirecheck', 'selftest', '--protocol', protocol, '--cases', pattern, '--reporter', 'json', '--out', out, '--quiet'], app, 180_000);
    t.equal(self.code, 0, `npx wirecheck selftest --protocol ${protocol} passes ${self.code === 0 ? '' : self.err.slice(-3000)}`);
    const file = path.join(app, out, `${protocol}.json`);
    if (!existsSync(file)) {
      t.fail(`${protocol}.json written`);
      continue;
    }
    const report = JSON.parse(await readFile(file, 'utf8')) as { summary: { total: number; pass: number }; cases: { id: string }[] };
    t.ok(report.summary.total > 1 && report.summary.pass === report.summary.total, `${protocol}: ${report.summary.pass}/${report.summary.total} pass`);
    t.ok(report.cases.some((c) => c.id.startsWith(`${protocol}/fixture/`)), `${protocol}: a fixture from the package's fixtures/ ran`);
  }
});
