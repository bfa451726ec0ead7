import { describe, expect, it } from 'vitest';
import {
  documentViolations,
  sampleQueryValue,
  schemaViolations,
  type OpenApiDocument,
  type OpenApiSchema,
} from './openapi-strict.ts';

const closedProblem: OpenApiSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' } },
};

describe('schemaViolations', () => {
  it('finds open objects, unbounded strings and unbounded arrays (the checker can fail)', () => {
    const open: OpenApiSchema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string', maxLength: 10 } },
        nested: { type: 'object', properties: {}, additionalProperties: false },
        status: { type: 'string', enum: ['a', 'b'] },
        note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    };
    expect(schemaViolations({ paths: {} }, open, 'x', 'request')).toEqual([
      'x: object without additionalProperties: false',
      'x.name: string without maxLength',
      'x.tags: array without maxItems',
      'x.note<anyOf0>: string without maxLength',
    ]);
    // Response schemas are held to closed objects only.
    expect(schemaViolations({ paths: {} }, open, 'x', 'response')).toEqual([
      'x: object without additionalProperties: false',
    ]);
    // An open-ended map (additionalProperties: <schema>) is open, and its values are walked.
    expect(
      schemaViolations(
        { paths: {} },
        { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
        'm',
        'request',
      ),
    ).toEqual(['m: object without additionalProperties: false', 'm.*: string without maxLength']);
    const referenced: OpenApiDocument = {
      paths: {},
      components: {
        schemas: { Open: { type: 'object', properties: { a: { type: 'string', maxLength: 1 } } } },
      },
    };
    expect(schemaViolations(referenced, { $ref: '#/components/schemas/Open' }, 'r', 'request')).toEqual([
      'r: object without additionalProperties: false',
    ]);
    expect(() =>
      schemaViolations({ paths: {} }, { $ref: '#/components/schemas/Missing' }, 'r', 'request'),
    ).toThrow('unresolvable $ref');
  });
});

describe('documentViolations', () => {
  const doc: OpenApiDocument = {
    paths: {
      '/things/{id}': {
        get: {
          parameters: [
            { in: 'path', name: 'id', schema: { type: 'string', format: 'uuid' } },
            { in: 'query', name: 'q' },
          ],
          responses: {
            '200': { content: { 'application/json': { schema: { type: 'object', properties: {} } } } },
            '404': { content: { 'application/problem+json': { schema: closedProblem } } },
          },
        },
        post: {
          requestBody: { content: { 'application/json': {} } },
          responses: {
            '201': { content: { 'application/problem+json': { schema: closedProblem } } },
            '400': { content: { 'application/problem+json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
  };

  it('walks parameters, bodies and responses; problem documents only on error statuses with the RFC 9457 members', () => {
    const report = documentViolations(doc);
    expect(report.walked).toBe(4);
    expect(report.problems).toBe(3);
    expect(report.found).toEqual([
      'GET /things/{id} path:id: string without maxLength',
      'GET /things/{id} query q: no schema',
      'GET /things/{id} 200: object without additionalProperties: false',
      'POST /things/{id} body (application/json): no schema',
      'POST /things/{id} 201: a problem document on a success status',
      'POST /things/{id} 400: a problem document that does not require type, title and status',
    ]);
    expect(report.exempted).toEqual([]);
  });

  it('drops exempt findings and reports an exemption that matches nothing', () => {
    const report = documentViolations(doc, {
      exempt: {
        'GET /things/{id} 200: object without additionalProperties: false': 'a test reason',
        'GET /things/{id} 500: object without additionalProperties: false': 'never found',
      },
    });
    expect(report.exempted).toEqual(['GET /things/{id} 200: object without additionalProperties: false']);
    expect(report.found).not.toContain('GET /things/{id} 200: object without additionalProperties: false');
    expect(report.found).toContain(
      'stale exemption: GET /things/{id} 500: object without additionalProperties: false',
    );
  });
});

describe('sampleQueryValue', () => {
  it('picks a value the schema accepts', () => {
    const uuid = '0193a000-0000-7000-8000-000000000000';
    expect(sampleQueryValue({ type: 'string', format: 'uuid' }, uuid)).toBe(uuid);
    expect(sampleQueryValue({ type: 'string', enum: ['asc', 'desc'] }, uuid)).toBe('asc');
    expect(sampleQueryValue({ const: 3 }, uuid)).toBe('3');
    expect(sampleQueryValue({ type: 'integer', minimum: 5 }, uuid)).toBe('5');
    expect(sampleQueryValue({ anyOf: [{ type: 'number' }, { type: 'null' }] }, uuid)).toBe('1');
    expect(sampleQueryValue({ type: 'string' }, uuid)).toBe('a');
  });
});
