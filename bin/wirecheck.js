#!/usr/bin/env node
// Entry point. An installed package runs the compiled JavaScript in dist/
// (`npm run build`, run by `prepare` and `prepack`): no TypeScript compiler
// at run time, so the CLI starts at once. A development checkout (the
// TypeScript sources next to this folder) runs dist/ only while it is newer
// than every source file, and otherwise the sources through tsx (a dev
// dependency), so that an edit is never hidden by a stale build.
// WIRECHECK_SOURCES=1 forces the sources. README "Startup".
// Before the CLI runs, the process guard is installed (harness/engine/process-guard.ts:
// an uncaught error writes the partial reports and exits 3, never 1;
// SIGTERM exits 143 after writing them).
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('dist/harness/cli.js', root);
const sources = new URL('harness/cli.ts', root);

/** Newest modification time (ms) of the files and folders under `dir`. */
function newest(dir) {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when dist/ holds a build at least as new as the sources (always, in an installed package). */
function useBuilt() {
  if (!existsSync(built)) return false;
  if (!existsSync(sources)) return true;
  if (process.env.WIRECHECK_SOURCES === '1') return false;
  const stamp = new URL('dist/.built', root);
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return ['harness/', 'suites/', 'reference-server/'].every((d) => !existsSync(new URL(d, root)) || newest(new URL(d, root)) <= builtAt);
}

let cli;
if (useBuilt()) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(sources.href);
}
cli.installProcessGuard();
process.exitCode = await cli.main(process.argv.slice(2));
