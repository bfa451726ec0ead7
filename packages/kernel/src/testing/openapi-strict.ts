/**
 * Test support: checks that a service's OpenAPI document (what `/openapi.json` serves) describes
 * closed and bounded schemas. Objects must refuse unknown properties (`additionalProperties: false`)
 * on requests and responses; on the request side every string needs a `maxLength` (an `enum` or
 * `const` bounds it too) and every array a `maxItems`. Problem documents (RFC 9457, error statuses)
 * are the one general exception: they may carry extension members, so they stay open. Anything
 * else a service leaves open must be named, with a reason, in `exempt`.
 * Not used outside tests; it throws nothing and asserts nothing itself, it returns findings.
 */

/** The part of a JSON Schema (as fastify-swagger emits it) the walk reads. */
export interface OpenApiSchema {
  type?: string | string[];
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  additionalProperties?: boolean | OpenApiSchema;
  patternProperties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema | OpenApiSchema[];
  prefixItems?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  not?: OpenApiSchema;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
}

export interface OpenApiParameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: OpenApiSchema;
}

export interface OpenApiContent {
  schema?: OpenApiSchema;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, OpenApiContent> };
  responses?: Record<string, { content?: Record<string, OpenApiContent> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** Which side of an exchange a schema describes: only requests need bounded strings and arrays. */
export type SchemaSide = 'request' | 'response';

/** What {@link documentViolations} found. */
export interface DocumentReport {
  /** Parameters, request bodies and (non-problem) responses walked. */
  walked: number;
  /** Problem-document responses seen (and exempt). */
  problems: number;
  /**
   * Findings, e.g. `GET /v1/clients 200.items[]: object without additionalProperties: false`, minus
   * the exempt ones; an exemption that matched nothing is a finding too (`stale exemption: …`).
   */
  found: string[];
  /** The findings `exempt` accounted for. */
  exempted: string[];
}

const PROBLEM_JSON = 'application/problem+json';

/** Whether `schema.type` is `type` or a type list holding it. */
export const hasType = (schema: OpenApiSchema, type: string): boolean =>
  schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type));

/** Follows a local `#/components/schemas/…` reference (fastify-swagger may emit them). */
function resolve(doc: OpenApiDocument, schema: OpenApiSchema): OpenApiSchema {
  if (schema.$ref === undefined) return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
  const target = name === undefined ? undefined : doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolve(doc, target);
}

/**
 * Every place in `input` (and its subschemas) that is not closed or bounded, as readable paths
 * starting with `where`.
 *
 * @example
 * schemaViolations(doc, { type: 'object', properties: {} }, 'x', 'response');
 * // ['x: object without additionalProperties: false']
 */
export function schemaViolations(
  doc: OpenApiDocument,
  input: OpenApiSchema,
  where: string,
  side: SchemaSide,
): string[] {
  const found: string[] = [];
  const visit = (raw: OpenApiSchema, at: string, seen: Set<OpenApiSchema>) => {
    const schema = resolve(doc, raw);
    if (seen.has(schema)) return;
    const inner = new Set(seen).add(schema);
    const bounded = schema.enum !== undefined || schema.const !== undefined;
    if (hasType(schema, 'object') || schema.properties !== undefined) {
      if (schema.additionalProperties !== false)
        found.push(`${at}: object without additionalProperties: false`);
    }
    if (side === 'request' && hasType(schema, 'string') && schema.maxLength === undefined && !bounded) {
      found.push(`${at}: string without maxLength`);
    }
    if (side === 'request' && hasType(schema, 'array') && schema.maxItems === undefined) {
      found.push(`${at}: array without maxItems`);
    }
    for (const [name, sub] of Object.entries(schema.properties ?? {})) visit(sub, `${at}.${name}`, inner);
    for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {}))
      visit(sub, `${at}[/${pattern}/]`, inner);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties, `${at}.*`, inner);
    const items = schema.items === undefined ? [] : [schema.items].flat();
    for (const sub of [...items, ...(schema.prefixItems ?? [])]) visit(sub, `${at}[]`, inner);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
      for (const [i, sub] of (schema[key] ?? []).entries()) visit(sub, `${at}<${key}${i}>`, inner);
    if (schema.not) visit(schema.not, `${at}<not>`, inner);
  };
  visit(input, where, new Set());
  return found;
}

/**
 * Walks every operation of `doc`: parameters and request bodies as requests, answers as responses.
 * `application/problem+json` answers are exempt, but only on error statuses (≥ 400) and only when
 * they require the RFC 9457 members `type`, `title` and `status`. `exempt` maps an exact finding
 * to the reason it is accepted.
 *
 * @example
 * const { walked, found } = documentViolations(doc, {
 *   exempt: { 'GET /userinfo 200: object without additionalProperties: false': 'claims are open-ended' },
 * });
 * expect(found).toEqual([]);
 */
export function documentViolations(
  doc: OpenApiDocument,
  options: { exempt?: Readonly<Record<string, string>> } = {},
): DocumentReport {
  const all: string[] = [];
  let walked = 0;
  let problems = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const op = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) {
        if (!parameter.schema) all.push(`${op} ${parameter.in} ${parameter.name}: no schema`);
        else
          all.push(
            ...schemaViolations(doc, parameter.schema, `${op} ${parameter.in}:${parameter.name}`, 'request'),
          );
        walked++;
      }
      for (const [type, content] of Object.entries(operation.requestBody?.content ?? {})) {
        if (!content.schema) all.push(`${op} body (${type}): no schema`);
        else all.push(...schemaViolations(doc, content.schema, `${op} body`, 'request'));
        walked++;
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, content] of Object.entries(response.content ?? {})) {
          if (type === PROBLEM_JSON) {
            // The exemption is for problem documents only: an error status, the RFC 9457 shape.
            if (!(Number(status) >= 400)) all.push(`${op} ${status}: a problem document on a success status`);
            const required = content.schema?.required ?? [];
            if (!['type', 'title', 'status'].every((member) => required.includes(member)))
              all.push(`${op} ${status}: a problem document that does not require type, title and status`);
            problems++;
            continue;
          }
          if (!content.schema) all.push(`${op} ${status} (${type}): no schema`);
          else all.push(...schemaViolations(doc, content.schema, `${op} ${status}`, 'response'));
          walked++;
        }
      }
    }
  }
  const exempt = options.exempt ?? {};
  const exempted = all.filter((finding) => Object.hasOwn(exempt, finding));
  const stale = Object.keys(exempt)
    .filter((finding) => !exempted.includes(finding))
    .map((finding) => `stale exemption: ${finding}`);
  return {
    walked,
    problems,
    found: [...all.filter((finding) => !Object.hasOwn(exempt, finding)), ...stale],
    exempted,
  };
}

/**
 * A valid value for a required query parameter, so that a probe adding one unknown parameter
 * fails for that reason only.
 *
 * @example
 * sampleQueryValue({ type: 'string', format: 'uuid' }, someId); // someId
 */
export function sampleQueryValue(schema: OpenApiSchema, uuid: string): string {
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return sampleQueryValue(branch, uuid);
  const fixed = schema.const ?? schema.enum?.[0];
  if (fixed !== undefined) return typeof fixed === 'string' ? fixed : JSON.stringify(fixed);
  if (schema.format === 'uuid') return uuid;
  if (hasType(schema, 'integer') || hasType(schema, 'number')) return String(schema.minimum ?? 1);
  return 'a';
}
