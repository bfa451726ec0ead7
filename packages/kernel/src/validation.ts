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
    return (data: unknown) => (fn(data) ? { value: data } : { error: toError(fn) });
  };
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
