// `npm run build` (also run by `prepare` and `prepack`): compiles harness/,
// suites/ and reference-server/ to ESM JavaScript in dist/ (tsconfig.build.json),
// from a clean dist/; copies every other file of those folders (JSON
// schemas, SPEC.md, templates, any asset a module reads next to itself with
// `new URL('./file', import.meta.url)`) to the same place in dist/; writes
// the precompiled schema validators (harness/engine/precompiled.ts); then
// stamps dist/.built with the time the build started, which bin/wirecheck.js
// compares with the sources' (README "Startup").
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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
/** Copies the files of `dir` (a folder URL under root) that tsc does not emit to dist/. */
function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const from = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    if (e.isDirectory()) copyAssets(from);
    else if (!e.name.endsWith('.ts')) {
      const to = new URL(`dist/${from.href.slice(root.href.length)}`, root);
      mkdirSync(new URL('./', to), { recursive: true });
      copyFileSync(from, to);
    }
  }
}
for (const d of ['harness/', 'suites/', 'reference-server/']) copyAssets(new URL(d, root));
// The validators `wirecheck validate` needs, precompiled (harness/engine/precompiled.ts): the trace schemas and
// the profile schema of each protocol of this project (not of WIRECHECK_PROTOCOL_PATH's roots), so that no
// schema is compiled, and ajv is not loaded, at start-up.
delete process.env.WIRECHECK_PROTOCOL_PATH;
const { writePrecompiledValidators } = await import(new URL('dist/harness/engine/precompiled.js', root).href);
const { listProtocols, loadSuite } = await import(new URL('dist/harness/engine/registry.js', root).href);
const profiles = [];
for (const protocol of listProtocols()) profiles.push({ protocol, schema: (await loadSuite(protocol)).profileSchema });
writePrecompiledValidators(profiles);
const stamp = new URL('dist/.built', root);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
