/**
 * Every schema the user service documents is closed and bounded: objects refuse unknown
 * properties (requests and responses), and on the request side every string has a maxLength
 * and every array a maxItems. Problem documents (error responses) are the one intended
 * exception: RFC 9457 lets them carry extension members, so they stay open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from './test-harness.ts';

interface Schema {
  type?: string | string[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  items?: Schema | Schema[];
  prefixItems?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
}

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: Schema;
}

interface Content {
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, Content> };
  responses?: Record<string, { content?: Record<string, Content> }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

type Side = 'request' | 'response';

const PROBLEM_JSON = 'application/problem+json';

const hasType = (schema: Schema, type: string) =>
  schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type));

/** Follows a local `#/components/schemas/…` reference (fastify-swagger may emit them). */
function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
  const target = name === undefined ? undefined : doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolve(doc, target);
}

/**
 * Every place in `schema` (and its subschemas) that is not closed or bounded, as readable paths.
 * Objects must say `additionalProperties: false` on both sides; on the request side strings
 * need a maxLength (an enum or const bounds them too) and arrays a maxItems.
 */
function violations(doc: OpenApiDocument, input: Schema, where: string, side: Side): string[] {
  const found: string[] = [];
  const visit = (raw: Schema, at: string, seen: Set<Schema>) => {
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

/** Walks every operation: parameters and bodies as requests, answers as responses (problems exempt). */
function documentViolations(doc: OpenApiDocument): { walked: number; problems: number; found: string[] } {
  const found: string[] = [];
  let walked = 0;
  let problems = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const op = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) {
        if (!parameter.schema) found.push(`${op} ${parameter.in} ${parameter.name}: no schema`);
        else
          found.push(
            ...violations(doc, parameter.schema, `${op} ${parameter.in}:${parameter.name}`, 'request'),
          );
        walked++;
      }
      for (const [type, content] of Object.entries(operation.requestBody?.content ?? {})) {
        if (!content.schema) found.push(`${op} body (${type}): no schema`);
        else found.push(...violations(doc, content.schema, `${op} body`, 'request'));
        walked++;
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, content] of Object.entries(response.content ?? {})) {
          if (type === PROBLEM_JSON) {
            // The exemption is for problem documents only: an error status, the RFC 9457 shape.
            expect(
              Number(status),
              `${op} ${status}: a problem document on a success status`,
            ).toBeGreaterThanOrEqual(400);
            expect(content.schema?.required, `${op} ${status}`).toEqual(
              expect.arrayContaining(['type', 'title', 'status']),
            );
            problems++;
            continue;
          }
          if (!content.schema) found.push(`${op} ${status} (${type}): no schema`);
          else found.push(...violations(doc, content.schema, `${op} ${status}`, 'response'));
          walked++;
        }
      }
    }
  }
  return { walked, problems, found };
}

let h: Harness;
let doc: OpenApiDocument;
beforeAll(async () => {
  h = await startUsersHarness();
  const res = await request(h.url).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as OpenApiDocument;
});
afterAll(() => h.close());

describe('OpenAPI strictness (user service)', () => {
  it('finds open objects, unbounded strings and unbounded arrays (the checker can fail)', () => {
    const open: Schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string', maxLength: 10 } },
        nested: { type: 'object', properties: {}, additionalProperties: false },
        status: { type: 'string', enum: ['a', 'b'] },
        note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    };
    expect(violations({ paths: {} }, open, 'x', 'request')).toEqual([
      'x: object without additionalProperties: false',
      'x.name: string without maxLength',
      'x.tags: array without maxItems',
      'x.note<anyOf0>: string without maxLength',
    ]);
    // Response schemas are held to closed objects only.
    expect(violations({ paths: {} }, open, 'x', 'response')).toEqual([
      'x: object without additionalProperties: false',
    ]);
    const referenced: OpenApiDocument = {
      paths: {},
      components: {
        schemas: { Open: { type: 'object', properties: { a: { type: 'string', maxLength: 1 } } } },
      },
    };
    expect(violations(referenced, { $ref: '#/components/schemas/Open' }, 'r', 'request')).toEqual([
      'r: object without additionalProperties: false',
    ]);
  });

  it('closes every request and response object and bounds every request string and array', () => {
    const { walked, problems, found } = documentViolations(doc);
    // Sanity: the walk saw the whole API (23 /v1 operations and the internal ones), not an empty document.
    expect(walked).toBeGreaterThan(40);
    expect(problems).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  it('refuses an unknown query parameter on every operation that documents a query string', async () => {
    // The document lists query parameters one by one, so the query object's own
    // additionalProperties: false is checked by behaviour: an extra parameter is a 400.
    const admin = await h.bearer({
      permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'],
      scope: 'internal',
    });
    const someId = '0193a000-0000-7000-8000-000000000000';
    const probed: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
        if (query.length === 0) continue;
        const op = `${method.toUpperCase()} ${path}`;
        expect(method, `${op}: only GETs take query strings`).toBe('get');
        const params = new URLSearchParams();
        for (const p of query.filter((q) => q.required))
          params.set(p.name, sampleValue(p.schema ?? {}, someId));
        params.set('unexpected_param', '1');
        const url = `${path.replaceAll(/\{[^}]+\}/g, someId)}?${params.toString()}`;
        const res = await request(h.url).get(url).set('authorization', admin);
        expect(res.status, `${op}: ${res.text}`).toBe(400);
        expect(res.headers['content-type'], op).toMatch(/^application\/problem\+json/);
        expect((res.body as { detail?: string }).detail, op).toContain('unknown property "unexpected_param"');
        probed.push(op);
      }
    }
    expect(probed).toEqual(
      expect.arrayContaining([
        'GET /v1/users',
        'GET /v1/users/{id}',
        'GET /v1/orgs',
        'GET /v1/orgs/{orgId}/members',
        'GET /internal/users/{id}/authz',
      ]),
    );
  });
});

/** A valid value for a required query parameter, so the only error left is the unknown one. */
function sampleValue(schema: Schema, uuid: string): string {
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return sampleValue(branch, uuid);
  const fixed = schema.const ?? schema.enum?.[0];
  if (fixed !== undefined) return typeof fixed === 'string' ? fixed : JSON.stringify(fixed);
  if (schema.format === 'uuid') return uuid;
  if (hasType(schema, 'integer') || hasType(schema, 'number')) return String(schema.minimum ?? 1);
  return 'a';
}
