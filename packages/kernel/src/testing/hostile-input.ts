/**
 * Test support: hostile requests derived from a service's OpenAPI document, and a raw HTTP sender
 * for them. For every documented operation it makes requests a careless or malicious client could
 * send: path parameters that are not what the route expects (overlong, NUL, bad or overlong
 * percent-encoding, traversal), query values of the wrong kind, bodies that are not JSON, not an
 * object, nested 10,000 deep, prototype-pollution keys, each body property replaced by a value of
 * the wrong type (or an overlong string, a lone surrogate, a NUL), and mislabelled content types.
 * A service's test sends them all and asserts what the house rules promise: a 4xx with a
 * problem document (or the protocol's own error JSON), never a 5xx, and the service still up.
 * Requests go out byte for byte as written here (no client-side normalisation of the path).
 */
import http from 'node:http';
import { hasType, sampleQueryValue, type OpenApiDocument, type OpenApiSchema } from './openapi-strict.ts';

/** One request to send. */
export interface HostileRequest {
  /** What is hostile about it, e.g. `POST /v1/users body.email = 123`. */
  label: string;
  method: string;
  /** Path and query, sent as is. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What came back for a {@link HostileRequest}. */
export interface HostileResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Path segments no route parameter should accept, percent-encoded as a client would send them. */
const BAD_SEGMENTS = [
  'not-an-id',
  'x'.repeat(3_000),
  '%00',
  '%ZZ',
  '%C0%AF',
  '..%2F..%2Fetc%2Fpasswd',
  '%F0%9F%98%80',
  '-1',
  "1'%20OR%20'1'%3D'1",
  '%E2%80%AE',
];

/** Query values of the wrong kind for almost any parameter. */
const BAD_QUERY_VALUES = ['', 'x'.repeat(3_000), '-1', '1e309', 'NaN', '%ZZ', '%00', '[]', '{}', '0x10'];

/** JSON values (as JSON text) to put where a property's value belongs. */
const BAD_JSON_VALUES = [
  'null',
  '123',
  '-1',
  '1e308',
  'true',
  '[]',
  '{}',
  '""',
  JSON.stringify('x'.repeat(100_000)),
  '"\\ud800"',
  '"a\\u0000b"',
  '["x"]',
  '{"$ne":null}',
];

/** Form bodies that are malformed or abuse the encoding. */
const BAD_FORMS = [
  '%ZZ',
  'a=%ZZ',
  'a',
  '=',
  '&&&',
  'a=1&a=2',
  `a=${'x'.repeat(100_000)}`,
  '%00=%00',
  'a[b]=c',
  'a=%C0%AF',
];

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Whole bodies that are not the object an operation expects. */
const BAD_BODIES = [
  '{',
  'null',
  '[]',
  '"x"',
  '1',
  '{"a":',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"a":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
  '\u0000',
  '\ufeff{}',
];

/**
 * A plausible value for `schema` (the first enum member, a uuid, an email, a short string), used
 * as the rest of a body while one property is made hostile, so the hostile one is what the
 * service has to cope with.
 */
export function sampleJsonValue(schema: OpenApiSchema, uuid: string, depth = 0): unknown {
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return sampleJsonValue(branch, uuid, depth);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (hasType(schema, 'object') || schema.properties) {
    const out: Record<string, unknown> = {};
    if (depth < 4)
      for (const name of schema.required ?? [])
        out[name] = sampleJsonValue(schema.properties?.[name] ?? {}, uuid, depth + 1);
    return out;
  }
  if (hasType(schema, 'array')) return [];
  if (hasType(schema, 'boolean')) return true;
  if (hasType(schema, 'integer') || hasType(schema, 'number')) return schema.minimum ?? 1;
  if (schema.format === 'uuid') return uuid;
  if (schema.format === 'email') return 'hostile@example.com';
  if (schema.format === 'uri') return 'https://example.com/';
  return sampleQueryValue(schema, uuid);
}

/**
 * Every hostile request for every operation of `doc` (paths under `only`, when given), with
 * `headers` (e.g. an administrator's bearer token) on each, so they get past authentication
 * and reach validation.
 *
 * @example
 * for (const req of hostileRequests(doc, { uuid: someId, headers: { authorization } })) …
 */
export function hostileRequests(
  doc: OpenApiDocument,
  options: { uuid: string; headers?: Record<string, string>; only?: (path: string) => boolean },
): HostileRequest[] {
  const { uuid } = options;
  const base = options.headers ?? {};
  const out: HostileRequest[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (options.only && !options.only(path)) continue;
    for (const [lower, operation] of Object.entries(operations)) {
      const method = lower.toUpperCase();
      const op = `${method} ${path}`;
      const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
      const required = new URLSearchParams();
      for (const p of query.filter((q) => q.required))
        required.set(p.name, sampleQueryValue(p.schema ?? {}, uuid));
      const withQuery = (p: string) => (required.size > 0 ? `${p}?${required.toString()}` : p);
      const samplePath = path.replaceAll(/\{[^}]+\}/g, uuid);
      const target = withQuery(samplePath);
      const content = operation.requestBody?.content ?? {};
      const jsonSchema = content[JSON_TYPE]?.schema;
      const formSchema = content[FORM_TYPE]?.schema;
      const sample = jsonSchema === undefined ? undefined : sampleJsonValue(jsonSchema, uuid);
      const bodyType =
        jsonSchema !== undefined ? JSON_TYPE : formSchema !== undefined ? FORM_TYPE : undefined;
      const bodyHeaders: Record<string, string> = bodyType ? { 'content-type': bodyType } : {};
      const sampleBody =
        sample !== undefined ? JSON.stringify(sample) : formSchema !== undefined ? '' : undefined;
      const add = (label: string, p: string, headers: Record<string, string>, body?: string) =>
        out.push({
          label: `${op} ${label}`,
          method,
          path: p,
          headers: { ...base, ...headers },
          ...(body === undefined ? {} : { body }),
        });

      // Path parameters, one at a time, the others sampled.
      for (const match of path.matchAll(/\{([^}]+)\}/g)) {
        for (const bad of BAD_SEGMENTS) {
          const p = path.replaceAll(/\{([^}]+)\}/g, (_all, name: string) => (name === match[1] ? bad : uuid));
          add(`path.${match[1]} = ${bad.slice(0, 40)}`, withQuery(p), bodyHeaders, sampleBody);
        }
      }
      // Query parameters, one at a time, and each repeated.
      for (const param of query) {
        for (const bad of BAD_QUERY_VALUES) {
          const q = new URLSearchParams(required);
          q.delete(param.name);
          const raw = `${encodeURIComponent(param.name)}=${bad}`;
          const rest = q.toString();
          add(
            `query.${param.name} = ${bad.slice(0, 40)}`,
            `${samplePath}?${rest ? `${rest}&` : ''}${raw}`,
            {},
          );
        }
        const q = new URLSearchParams(required);
        q.set(param.name, sampleQueryValue(param.schema ?? {}, uuid));
        q.append(param.name, sampleQueryValue(param.schema ?? {}, uuid));
        add(`query.${param.name} repeated`, `${samplePath}?${q.toString()}`, {});
      }
      if (jsonSchema !== undefined) {
        for (const bad of BAD_BODIES) add(`body = ${bad.slice(0, 40)}`, target, bodyHeaders, bad);
        add('body empty', target, bodyHeaders, '');
        add('body as text/plain', target, { 'content-type': 'text/plain' }, sampleBody);
        add(
          'body as utf-16 json',
          target,
          { 'content-type': 'application/json; charset=utf-16' },
          sampleBody,
        );
        add('body as form', target, { 'content-type': FORM_TYPE }, 'a=b');
        add('body without content-type', target, {}, sampleBody);
        const properties = Object.keys(jsonSchema.properties ?? {});
        for (const name of [...properties, 'unexpected']) {
          for (const bad of BAD_JSON_VALUES) {
            const others = { ...(sample as Record<string, unknown>) };
            delete others[name];
            const head = JSON.stringify(others).slice(0, -1);
            const body = `${head}${head.length > 1 ? ',' : ''}${JSON.stringify(name)}:${bad}}`;
            add(`body.${name} = ${bad.slice(0, 40)}`, target, bodyHeaders, body);
          }
        }
      }
      if (formSchema !== undefined) {
        for (const bad of BAD_FORMS) add(`form = ${bad.slice(0, 40)}`, target, bodyHeaders, bad);
        add('form as json', target, { 'content-type': JSON_TYPE }, '{"grant_type":"client_credentials"}');
      }
    }
  }
  return out;
}

/**
 * Sends `req` to `origin` over a fresh connection exactly as written (no path normalisation).
 *
 * @example
 * const res = await sendRaw('http://127.0.0.1:8082', req);
 */
export function sendRaw(origin: string, req: HostileRequest): Promise<HostileResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const outgoing = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** What {@link sendHostile} saw. */
export interface HostileReport {
  /** Requests sent. */
  sent: number;
  /** How many answers had each status. */
  statuses: Record<number, number>;
  /** `label -> status content-type body…` for every answer that broke the rules. */
  findings: string[];
}

/**
 * Sends every request in `requests` to `origin`, one at a time, and reports each answer that is a
 * 5xx or that `expected` objects to (it returns why, or nothing when the answer is fine).
 *
 * @example
 * const { findings } = await sendHostile(url, requests, (req, res) =>
 *   res.status >= 400 && !res.contentType.startsWith('application/problem+json') ? 'not a problem document' : undefined);
 */
export async function sendHostile(
  origin: string,
  requests: readonly HostileRequest[],
  expected: (req: HostileRequest, res: HostileResponse) => string | undefined,
): Promise<HostileReport> {
  const statuses: Record<number, number> = {};
  const findings: string[] = [];
  for (const req of requests) {
    const res = await sendRaw(origin, req);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const why = res.status >= 500 ? 'a server error' : expected(req, res);
    if (why)
      findings.push(`${req.label} -> ${why}: ${res.status} ${res.contentType} ${res.body.slice(0, 200)}`);
  }
  return { sent: requests.length, statuses, findings };
}

/**
 * The usual expectation: a 4xx answer is a problem document (RFC 9457) whose `status` is the
 * answer's.
 */
export function problemDocumentExpected(_req: HostileRequest, res: HostileResponse): string | undefined {
  if (res.status < 400) return undefined;
  if (!res.contentType.startsWith('application/problem+json')) return 'not a problem document';
  try {
    const body = JSON.parse(res.body) as { status?: unknown };
    return body.status === res.status ? undefined : 'a problem document with another status';
  } catch {
    return 'a problem document that is not JSON';
  }
}
