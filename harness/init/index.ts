/**
 * `wirecheck init PROTOCOL`: scaffolds a new protocol's folders from the
 * templates in `harness/init/templates/` (README "Adding a protocol"): a
 * SPEC.md skeleton with numbered sections, codec, model, monitor, profile
 * and its schema, probe, one case, the suite's index; one fixture; the
 * reference server's core and entry. The example protocol they implement (a
 * length-prefixed echo over TCP) passes its own suite at once, so that
 * `npm test` and `wirecheck selftest` pass before the first edit.
 *
 * Templates are plain files with `.tmpl` appended; in their paths and text
 * `__name__` is the protocol name (`my-proto`), `__NAME__` its rule prefix
 * (`MYPROTO`), `__Name__` the type prefix (`MyProto`), `__camel__` the
 * value prefix (`myProto`) and `__Title__` the title (`My Proto`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../engine/errors.js';
import { PROTOCOL_NAME } from '../engine/registry.js';

/** Folder of the templates, next to this module (copied to dist/ by the build). */
export const templateDir: string = fileURLToPath(new URL('./templates/', import.meta.url));

/** Options of {@link scaffoldProtocol}. */
export interface ScaffoldOptions {
  /** Protocol name, as {@link PROTOCOL_NAME}: also its folder names and case id prefix. */
  readonly name: string;
  /** Project folder to write into (holding `suites/`, `reference-server/`, `fixtures/`). */
  readonly dir: string;
  /** Title for SPEC.md and reports (default from the name: `my-proto` → `My Proto`). */
  readonly title?: string;
}

/** The placeholder values for a protocol name. */
export function placeholders(name: string, title?: string): Readonly<Record<string, string>> {
  const words = name.split('-').filter(Boolean);
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const pascal = words.map(cap).join('');
  return {
    __name__: name,
    // Rule ids are `<PREFIX>-§.n` with a prefix of letters and digits (fixture schema): hyphens dropped.
    __NAME__: name.replace(/-/g, '').toUpperCase(),
    __Name__: pascal,
    __camel__: pascal.charAt(0).toLowerCase() + pascal.slice(1),
    __Title__: title ?? words.map(cap).join(' '),
  };
}

async function templateFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await templateFiles(dir, r)));
    else if (e.name.endsWith('.tmpl')) out.push(r);
  }
  return out.sort();
}

/**
 * Writes the new protocol's files under `dir`; nothing when any of them
 * exists already.
 * @returns the paths written, relative to `dir`, sorted.
 * @throws UsageError for a bad name or title, or when the protocol's folders exist (naming them).
 */
export async function scaffoldProtocol(opts: ScaffoldOptions): Promise<string[]> {
  if (!PROTOCOL_NAME.test(opts.name) || opts.name.endsWith('-')) {
    throw new UsageError(`init ${JSON.stringify(opts.name)}: a protocol name is lower-case letters, digits and single hyphens, starting with a letter (it names folders, case ids and rule ids)`);
  }
  if (opts.title !== undefined && /['`\\\n]|\$\{/.test(opts.title)) throw new UsageError(`--title ${JSON.stringify(opts.title)}: no quotes, backslashes or newlines (it is written into code)`);
  const values = placeholders(opts.name, opts.title);
  const fill = (text: string) => text.replace(/__(name|NAME|Name|camel|Title)__/g, (m) => values[m] ?? m);
  const files = (await templateFiles(templateDir)).map((rel) => ({ template: rel, target: fill(rel.slice(0, -'.tmpl'.length)) }));
  const taken = [...new Set(files.map((f) => f.target.split(path.sep).slice(0, 2).join(path.sep)))].filter((d) => existsSync(path.join(opts.dir, d)));
  if (taken.length > 0) throw new UsageError(`init ${opts.name}: ${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} in ${opts.dir}; nothing written`);
  for (const f of files) {
    const target = path.join(opts.dir, f.target);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, fill(await readFile(path.join(templateDir, f.template), 'utf8')), { flag: 'wx' });
  }
  return files.map((f) => f.target).sort();
}
