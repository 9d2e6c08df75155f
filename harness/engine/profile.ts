/**
 * Target profiles: JSON files checked against the suite's JSON Schema with
 * ajv, then merged over the suite's defaults.
 */
import { readFile } from 'node:fs/promises';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { MonitorSuite } from './types.js';
import { UsageError } from './errors.js';
import { describeAjvErrors } from './schema-errors.js';
import { newAjv, precompiledProfileValidator, PROFILE_AJV_OPTIONS } from './precompiled.js';

/**
 * Loads and validates a profile file (or returns the defaults when `file` is
 * undefined), merged over `base` (default: the suite's defaults).
 * @throws UsageError naming the file, the JSON pointer and what was wrong.
 */
export async function loadProfile<P extends object>(suite: MonitorSuite<P>, file: string | undefined, base: P = suite.defaultProfile): Promise<P> {
  if (file === undefined) return base;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--profile ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--profile ${file}: not valid JSON (${(err as Error).message})`);
  }
  const deep = nestingDepthOver(data, MAX_PROFILE_DEPTH);
  if (deep !== undefined) throw new UsageError(`--profile ${file}: nested deeper than ${MAX_PROFILE_DEPTH} levels (at ${deep.length > 80 ? `${deep.slice(0, 80)}…` : deep}); a profile is a flat object`);
  return checkProfileData(suite, data, file, base);
}

/** Deepest nesting of objects and arrays a profile may have (profiles are flat; this only stops hostile files). */
export const MAX_PROFILE_DEPTH = 32;

/**
 * Checks, without recursion, whether parsed JSON nests objects/arrays deeper than `max`.
 * @returns the JSON pointer of the first too-deep value, or undefined when within the limit.
 */
export function nestingDepthOver(data: unknown, max: number): string | undefined {
  const stack: [unknown, number, string][] = [[data, 0, '']];
  while (stack.length > 0) {
    const [v, depth, at] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return at === '' ? '/' : at;
    for (const [k, child] of Object.entries(v)) stack.push([child, depth + 1, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
  }
  return undefined;
}

/** Profile validators, by schema object (a process that checks several profiles of one protocol compiles its schema once). */
const compiledProfiles = new WeakMap<object, ValidateFunction>();

/**
 * The validator of a protocol's profile schema: the one `npm run build`
 * precompiled for exactly this schema (precompiled.ts: no ajv loaded),
 * else compiled now. The schemas are the protocols' own files, so ajv does
 * not check them against the JSON Schema meta-schema at run time (that was
 * about 50 ms of every `validate` of a trace with a profile);
 * test/traces/schemas.test.ts checks every protocol's instead.
 */
function profileValidator(protocol: string, schema: object): ValidateFunction {
  let v = compiledProfiles.get(schema);
  if (v === undefined) compiledProfiles.set(schema, (v = precompiledProfileValidator(protocol, schema) ?? newAjv(PROFILE_AJV_OPTIONS).compile(schema)));
  return v;
}

/**
 * Validates profile data (already parsed) and merges it over `base`.
 * @throws UsageError naming `where`, the JSON pointer and the problem.
 */
export function checkProfileData<P extends object>(suite: MonitorSuite<P>, data: unknown, where: string, base: P = suite.defaultProfile): P {
  const deep = nestingDepthOver(data, MAX_PROFILE_DEPTH);
  if (deep !== undefined) throw new UsageError(`profile ${where} is not a valid ${suite.name} profile: nested deeper than ${MAX_PROFILE_DEPTH} levels (at ${deep.length > 80 ? `${deep.slice(0, 80)}…` : deep})`);
  const validate = profileValidator(suite.name, suite.profileSchema);
  if (!validate(data)) {
    const lines = describeAjvErrors(validate.errors, data).map((l) => `  ${l}`);
    throw new UsageError(`profile ${where} is not a valid ${suite.name} profile:\n${lines.join('\n')}`);
  }
  const { $schema: _ignored, ...fields } = data as Record<string, unknown>;
  const merged = { ...base, ...fields } as P;
  const problems = suite.checkProfile?.(merged) ?? [];
  if (problems.length > 0) throw new UsageError(`profile ${where}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return merged;
}
