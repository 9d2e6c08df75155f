// `npm run build` (also run by `prepare` and `prepack`): compiles harness/,
// suites/ and reference-server/ to ESM JavaScript in dist/ (tsconfig.build.json;
// the JSON schemas the code imports are copied with it), from a clean dist/,
// then stamps dist/.built with the time the build started, which
// bin/wirecheck.js compares with the sources' (README "Startup").
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
if (!existsSync(new URL('tsconfig.build.json', root))) {
  // An installed package ships dist/ built; there are no sources to build.
  process.exit(0);
}
const started = new Date();
rmSync(new URL('dist/', root), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
const stamp = new URL('dist/.built', root);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
