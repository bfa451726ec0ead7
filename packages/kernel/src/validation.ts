import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    // Unknown properties are refused, never silently stripped (schemas say additionalProperties: false).
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    allErrors: false,
    strict: false,
  });
  return addFormats(ajv);
}

/**
 * Fastify validator compiler: query strings, params and headers are text on the wire and are
 * coerced to the schema's types; bodies are JSON and must already have the right types ("1" is
 * not an integer), so a wrong type is a 400, never a silent conversion.
 *
 * @example
 * app.setValidatorCompiler(createValidatorCompiler());
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const coercing = makeAjv(true);
  const strict = makeAjv(false);
  const cache = new WeakMap<object, ValidateFunction>();
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    const key = schema as object;
    let validate = httpPart === 'body' ? cache.get(key) : undefined;
    if (!validate) {
      validate = ajv.compile(schema as object);
      if (httpPart === 'body') cache.set(key, validate);
    }
    const fn = validate;
    const numeric = httpPart === 'body' ? [] : numericProperties(schema);
    return (data: unknown) => {
      const loose = looseNumber(data, numeric);
      if (loose) return { error: loose };
      return fn(data) ? { value: data } : { error: toError(fn) };
    };
  };
}

const DECIMAL: Record<'integer' | 'number', RegExp> = {
  integer: /^-?\d{1,15}$/,
  number: /^-?\d{1,15}(\.\d{1,15})?$/,
};

/** The top-level properties of a query or path schema that hold numbers, with their type. */
function numericProperties(schema: unknown): Array<[string, 'integer' | 'number']> {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties).flatMap(([name, property]) =>
    property.type === 'integer' || property.type === 'number'
      ? [[name, property.type] as [string, 'integer' | 'number']]
      : [],
  );
}

/**
 * Coercion would read `0x10` as 16, `1e1` as 10 and ` 5` as 5: in a query or a path, a number is
 * plain decimal digits or it is refused.
 */
function looseNumber(data: unknown, numeric: Array<[string, 'integer' | 'number']>): Error | undefined {
  if (numeric.length === 0 || !data || typeof data !== 'object') return undefined;
  for (const [name, type] of numeric) {
    const value = (data as Record<string, unknown>)[name];
    if (typeof value === 'string' && !DECIMAL[type].test(value)) {
      return Object.assign(
        new Error(`${name} must be ${type === 'integer' ? 'an integer' : 'a number'} in decimal digits`),
        {
          validation: [{ instancePath: `/${name}`, keyword: 'type', message: 'must be decimal' }],
        },
      );
    }
  }
  return undefined;
}

function toError(validate: ValidateFunction): Error & { validation: unknown } {
  const first = validate.errors?.[0];
  const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
  let message = first?.message ?? 'is invalid';
  if (first?.keyword === 'additionalProperties') {
    message = `has an unknown property "${String((first.params as { additionalProperty?: string }).additionalProperty).slice(0, 64)}"`;
  }
  const error = new Error(`${where || 'value'} ${message}`) as Error & { validation: unknown };
  error.validation = validate.errors;
  return error;
}
