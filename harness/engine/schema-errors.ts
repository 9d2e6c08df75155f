/**
 * One way to say what is wrong with a JSON document that failed a JSON
 * Schema (ajv 8): one line per problem, naming the JSON pointer (RFC 6901)
 * of the offending value and what was wrong, e.g.
 * `/cases/3/verdict: must be one of "pass", ...; got "passed"` or
 * `/steps/0/conn: required property is missing`.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';

/** Short JSON rendering of a value for an error message. */
function brief(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Escapes a property name as a JSON pointer token (RFC 6901). */
function token(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Reads the value at a JSON pointer (RFC 6901; `''` is the whole value); undefined when nothing is there. */
export function valueAtPointer(data: unknown, pointer: string): unknown {
  let v: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** One line for one ajv error: `<JSON pointer>: <what was wrong>`; the root is `(root)`. */
export function describeAjvError(e: ErrorObject, data: unknown): string {
  const where = (p: string): string => (p === '' ? '(root)' : p);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${e.instancePath}/${token(String(params['missingProperty']))}: required property is missing`;
    case 'additionalProperties':
      return `${e.instancePath}/${token(String(params['additionalProperty']))}: property is not allowed here`;
    case 'propertyNames':
      return `${e.instancePath}/${token(String(params['propertyName']))}: property name is not allowed`;
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((x) => JSON.stringify(x)).join(', ');
      return `${where(e.instancePath)}: must be one of ${allowed}; got ${brief(valueAtPointer(data, e.instancePath))}`;
    }
    case 'const':
      return `${where(e.instancePath)}: must be ${JSON.stringify(params['allowedValue'])}; got ${brief(valueAtPointer(data, e.instancePath))}`;
    default:
      return `${where(e.instancePath)}: ${e.message ?? e.keyword}; got ${brief(valueAtPointer(data, e.instancePath))}`;
  }
}

/**
 * The lines for a failed validation: the noise of `if`/`then` dispatch left
 * out, duplicates merged, at most `max` lines (the rest counted in a last line).
 */
export function describeAjvErrors(errors: readonly ErrorObject[] | null | undefined, data: unknown, max = 50): string[] {
  const all = errors ?? [];
  const useful = all.filter((e) => e.keyword !== 'if');
  const lines = [...new Set((useful.length > 0 ? useful : all).map((e) => describeAjvError(e, data)))];
  return lines.length > max ? [...lines.slice(0, max), `(${lines.length - max} more)`] : lines;
}
