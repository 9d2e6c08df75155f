/**
 * CLI start time (`npm run bench:startup`): wall time (ms) from spawning
 * `node` to its exit, for `wirecheck --help` and `wirecheck list`, median
 * of N starts each, next to a bare `node -e ""` start measured in the same
 * run (the ratio is what to compare between machines).
 *
 * Variants (each started N times, interleaved so that load on the machine
 * falls on all of them alike):
 * - `before`: what every start did before README "Startup": the TypeScript
 *   sources compiled by tsx at start and every command module loaded
 *   (eager registration);
 * - `sources`: `bin/wirecheck.js` with WIRECHECK_SOURCES=1: tsx, commands
 *   loaded lazily (a development checkout with sources newer than dist/);
 * - `dist`: `bin/wirecheck.js` running the compiled JavaScript in dist/
 *   (an installed package; `npm run build` first, else this variant is left
 *   out with a message);
 * - `--bin FILE` (repeatable): any other entry, e.g. the bin of an older
 *   checkout or of an installed package's node_modules/.bin/wirecheck.
 *
 * Options: --runs N (default 20).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './_stats.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = path.join(root, 'bin', 'wirecheck.js');

function option(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === `--${name}`) {
      const v = process.argv[i + 1];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      out.push(v);
    }
  });
  return out;
}

const runsArg = option('runs')[0] ?? '20';
const runs = Number(runsArg);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${JSON.stringify(runsArg)}`);

/** One way of starting node: argv after `node`, extra environment. */
interface Variant {
  readonly name: string;
  readonly args: (cmd: readonly string[]) => string[];
  readonly env?: Readonly<Record<string, string>>;
}

// The eager start of before: tsx, every command module imported, then main().
const scratch = mkdtempSync(path.join(tmpdir(), 'wirecheck-startup-'));
const eager = path.join(scratch, 'eager.mjs');
writeFileSync(
  eager,
  [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `const cli = await import(${JSON.stringify(new URL('../harness/cli.ts', import.meta.url).href)});`,
    'await Promise.all(cli.commands.map((c) => c.load()));',
    'process.exitCode = await cli.main(process.argv.slice(2));',
    '',
  ].join('\n'),
);

const variants: Variant[] = [
  { name: 'node -e ""', args: () => ['-e', ''] },
  { name: 'before (tsx, eager)', args: (cmd) => [eager, ...cmd] },
  { name: 'sources (tsx, lazy)', args: (cmd) => [bin, ...cmd], env: { WIRECHECK_SOURCES: '1' } },
];
const distBuilt = existsSync(path.join(root, 'dist', '.built'));
if (distBuilt) variants.push({ name: 'dist (compiled, lazy)', args: (cmd) => [bin, ...cmd] });
for (const other of option('bin')) variants.push({ name: other, args: (cmd) => [other, ...cmd] });

/** Wall time (ms) of one start; throws when the command fails. */
function start(v: Variant, cmd: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, v.args(cmd), { env: { ...process.env, ...v.env }, encoding: 'utf8', cwd: root });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${v.name} ${cmd.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.slice(0, 500)}`);
  return ms;
}

try {
  if (!distBuilt) process.stdout.write('bench/startup: no dist/ build (run `npm run build`); the dist variant is left out\n');
  process.stdout.write(`bench/startup: median of ${runs} starts each, wall time from spawn to exit (ms), node ${process.version}\n\n`);
  for (const cmd of [['--help'], ['list']]) {
    const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (const v of variants) start(v, cmd); // warm the file cache and tsx's compile cache
    for (let i = 0; i < runs; i++) for (const v of variants) times.get(v)!.push(start(v, cmd));
    const base = median(times.get(variants[0]!)!);
    const before = median(times.get(variants[1]!)!);
    process.stdout.write(`wirecheck ${cmd.join(' ')}\n`);
    for (const v of variants) {
      const m = median(times.get(v)!);
      const label = v === variants[0] ? v.name : `${v.name} ${cmd.join(' ')}`;
      process.stdout.write(`  ${label.padEnd(44)} ${m.toFixed(0).padStart(6)} ms   ${(m / base).toFixed(2).padStart(5)}× node   ${(m / before).toFixed(2).padStart(5)}× before\n`);
    }
    process.stdout.write('\n');
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
