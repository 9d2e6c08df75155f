/**
 * Validators compiled at build time (`npm run build`, scripts/build.mjs):
 * ajv's standalone code of the trace schemas and of each protocol's profile
 * schema, written next to the compiled modules in dist/, so that
 * `wirecheck validate` neither loads ajv nor compiles a schema at start-up
 * (about 80 ms of it). The TypeScript sources (tsx) have none and compile
 * at run time with the same options: the same generated code, so the same
 * verdicts and errors (test/engine/precompiled.test.ts compares them).
 */
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Ajv2020, Options, ValidateFunction } from 'ajv/dist/2020.js';
import headerSchema from '../traces/trace-header.schema.json' with { type: 'json' };
import eventSchema from '../reports/trace-event.schema.json' with { type: 'json' };

const require = createRequire(import.meta.url);

/** ajv options of the trace validators. The schemas are this package's own files: no meta-schema check at run time (test/traces/schemas.test.ts checks them). */
export const TRACE_AJV_OPTIONS: Options = { allErrors: false, strict: false, validateSchema: false };
/** ajv options of the profile validators (every problem of a profile is reported; schemas checked by test/traces/schemas.test.ts). */
export const PROFILE_AJV_OPTIONS: Options = { allErrors: true, strict: false, validateSchema: false };

/** File (next to this module) of the precompiled trace validators. */
const TRACE_FILE = 'trace-validators.cjs';
/** Folder (next to this module) of the precompiled profile validators, one `<protocol>.cjs` each. */
const PROFILE_DIR = 'profiles';

/** A new ajv (draft 2020-12), loaded on first use: CommonJS, required synchronously. */
export function newAjv(opts: Options): Ajv2020 {
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  return new Ajv(opts);
}

/** The `$id` of the schema holding only the trace-event schema's `$defs` (each type's validator comes from it: `$defs/<type>` of the whole schema would compile the `if`/`then` chain of every type too). */
export const EVENT_DEFS_ID = (eventSchema as { $id: string }).$id.replace(/\.json$/, '') + '-defs.json';

/** The event types of the trace-event schema. */
export const EVENT_TYPES: readonly string[] = (eventSchema as { properties: { type: { enum: string[] } } }).properties.type.enum;

/** Adds the trace schemas to an ajv: the header's, the event schema's `$defs` alone ({@link EVENT_DEFS_ID}), the whole event schema. */
export function addTraceSchemas(ajv: Ajv2020): Ajv2020 {
  ajv.addSchema({ $id: EVENT_DEFS_ID, $defs: (eventSchema as { $defs: object }).$defs });
  ajv.addSchema(headerSchema);
  ajv.addSchema(eventSchema);
  return ajv;
}

/** The precompiled trace validators (`header`, `event`, and `type_<type>` for each event type), or undefined when there are none (running from the sources). */
export function precompiledTraceValidators(): Readonly<Record<string, ValidateFunction>> | undefined {
  return load(`./${TRACE_FILE}`);
}

/** The precompiled validator of a protocol's profile schema, when one was built for exactly this schema. */
export function precompiledProfileValidator(protocol: string, schema: object): ValidateFunction | undefined {
  if (!/^[a-z][a-z0-9-]*$/.test(protocol)) return undefined;
  const m = load(`./${PROFILE_DIR}/${protocol}.cjs`) as { schema?: string; validate?: ValidateFunction } | undefined;
  return m?.validate !== undefined && m.schema === JSON.stringify(schema) ? m.validate : undefined;
}

function load(file: string): Record<string, ValidateFunction> | undefined {
  try {
    return require(file) as Record<string, ValidateFunction>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/** ajv's standalone code (CommonJS) of the trace validators: exports `header`, `event` and `type_<type>` for each event type. */
export function traceValidatorsCode(): string {
  const traces = addTraceSchemas(newAjv({ ...TRACE_AJV_OPTIONS, code: { source: true } }));
  const refs: Record<string, string> = { header: (headerSchema as { $id: string }).$id, event: (eventSchema as { $id: string }).$id };
  for (const type of EVENT_TYPES) refs[`type_${type}`] = `${EVENT_DEFS_ID}#/$defs/${type}`;
  return standalone()(traces, refs);
}

/** ajv's standalone code (CommonJS) of a profile validator: exports `validate`, and `schema` (the schema's JSON, to check that it is still the protocol's). */
export function profileValidatorCode(schema: object): string {
  const ajv = newAjv({ ...PROFILE_AJV_OPTIONS, code: { source: true } });
  return `${standalone()(ajv, ajv.compile(schema))}\nmodule.exports = { validate: module.exports, schema: ${JSON.stringify(JSON.stringify(schema))} };\n`;
}

function standalone(): typeof import('ajv/dist/standalone/index.js').default {
  return (require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js')).default;
}

/**
 * Writes the precompiled validators next to this module (build time, run on
 * the compiled dist/ by scripts/build.mjs): the trace schemas', and the
 * profile schema's of each protocol given.
 */
export function writePrecompiledValidators(profiles: readonly { readonly protocol: string; readonly schema: object }[]): void {
  writeFileSync(new URL(TRACE_FILE, import.meta.url), traceValidatorsCode());
  const dir = new URL(`${PROFILE_DIR}/`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const { protocol, schema } of profiles) writeFileSync(new URL(`${protocol}.cjs`, dir), profileValidatorCode(schema));
}
