import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { createHttpServer, type HttpServer, type ReadinessCheck } from './http.ts';
import { createLogger } from './logger.ts';
import { ConflictError } from './errors.ts';

function captureLogs(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(readiness: ReadinessCheck[] = [], logs = captureLogs()): HttpServer {
  app = createHttpServer({
    name: 'test',
    logger: createLogger({ name: 'test', level: 'info', destination: logs.stream }),
    corsOrigins: ['https://app.example'],
    corsCredentials: true,
    readiness,
    bodyLimit: 1024,
  });
  const Body = Type.Object(
    { name: Type.String({ minLength: 1, maxLength: 10 }), age: Type.Optional(Type.Integer({ minimum: 0 })) },
    { additionalProperties: false },
  );
  app.post('/things', { schema: { body: Body } }, async (request) => ({ got: request.body.name }));
  app.get(
    '/things',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Integer({ maximum: 5 }) }, { additionalProperties: false }),
      },
    },
    async (request) => ({ limit: request.query.limit }),
  );
  app.get('/conflict', async () => {
    throw new ConflictError('email_taken', 'a user with this email already exists');
  });
  app.get('/boom', async () => {
    throw new Error('secret internal detail: host db-7.internal');
  });
  app.patch('/things/:id', async () => ({}));
  return app;
}

describe('createHttpServer', () => {
  it('echoes a valid incoming x-request-id and replaces an invalid one', async () => {
    const server = build();
    const kept = await server.inject({ url: '/livez', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await server.inject({
      url: '/livez',
      headers: { 'x-request-id': 'bad id\u0000<script>' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown body fields with 400 problem+json instead of stripping them', async () => {
    const res = await build().inject({ method: 'POST', url: '/things', payload: { name: 'a', admin: true } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      status: 400,
      code: 'validation_failed',
      type: 'https://tessera.dev/problems/validation-failed',
    });
    expect(res.json().detail).toContain('admin');
  });

  it('does not coerce body types but does coerce query strings', async () => {
    const server = build();
    const body = await server.inject({ method: 'POST', url: '/things', payload: { name: 'a', age: '3' } });
    expect(body.statusCode).toBe(400);
    const query = await server.inject({ url: '/things?limit=3' });
    expect(query.json()).toEqual({ limit: 3 });
    expect((await server.inject({ url: '/things?limit=9' })).statusCode).toBe(400);
    // Only decimal digits: coercion alone would read these as 2, 2 and 2.
    for (const loose of ['0x2', '2e0', '%202', '2.0', '+2', '']) {
      const res = await server.inject({ url: `/things?limit=${loose}` });
      expect(res.statusCode, loose).toBe(400);
      expect(res.json().detail, loose).toMatch(/limit/);
    }
    const unknown = await server.inject({ url: '/things?limit=3&sort=name' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'unknown_parameter' });
  });

  it('keeps every error out of caches (404 and 405 would otherwise be cacheable)', async () => {
    const server = build();
    for (const [method, url] of [
      ['GET', '/nowhere'],
      ['DELETE', '/things'],
      ['GET', '/things?limit=9'],
    ] as const) {
      const res = await server.inject({ method, url });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.headers['cache-control'], `${method} ${url}`).toBe('no-store');
    }
  });

  it('refuses malformed JSON, duplicate keys, deep nesting and __proto__ with 400', async () => {
    const server = build();
    const send = (payload: string) =>
      server.inject({
        method: 'POST',
        url: '/things',
        payload,
        headers: { 'content-type': 'application/json' },
      });
    for (const payload of [
      '{"name":',
      '{"name":"a","name":"b"}',
      '['.repeat(40) + ']'.repeat(40),
      '{"__proto__":{"x":1},"name":"a"}',
      '{"constructor":{"prototype":{"x":1}},"name":"a"}',
    ]) {
      const res = await send(payload);
      expect(res.statusCode, payload).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // The refusal of __proto__ says what is wrong (the JSON itself is valid).
    const proto = await send('{"name":"a","__proto__":{"x":1}}');
    expect(proto.json()).toMatchObject({
      code: 'forbidden_key',
      detail: 'the JSON key "__proto__" is not accepted',
    });
  });

  it('answers a URL it cannot decode with a 400 problem document carrying the security headers', async () => {
    const server = build();
    const res = await server.inject({ url: '/things/%zz' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'malformed_url', status: 400 });
    // A path parameter over the router's length limit is named as such, not as bad encoding.
    const long = await server.inject({ method: 'PATCH', url: `/things/${'a'.repeat(400)}` });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ code: 'path_segment_too_long' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('refuses NUL characters (which PostgreSQL text cannot store) in JSON strings and URLs with 400', async () => {
    const server = build();
    const body = await server.inject({
      method: 'POST',
      url: '/things',
      payload: '{"name":"a\\u0000b"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toMatchObject({ code: 'nul_character' });
    const query = await server.inject({ url: '/things?limit=3%00' });
    expect(query.statusCode).toBe(400);
    expect(query.headers['content-type']).toContain('application/problem+json');
    expect(query.json()).toMatchObject({ code: 'nul_character' });
    // An escaped backslash before "u0000" is the six characters \u0000, not a NUL: accepted.
    const literal = await server.inject({
      method: 'POST',
      url: '/things',
      payload: '{"name":"a\\\\u0000"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(literal.statusCode).not.toBe(400);
  });

  it('refuses JSON that is not UTF-8 or holds a lone surrogate with 400, and keeps every real character', async () => {
    // Decoded leniently, both would be stored as U+FFFD: the value read back would not be the one sent.
    const server = build();
    const send = (payload: string | Buffer) =>
      server.inject({
        method: 'POST',
        url: '/things',
        payload,
        headers: { 'content-type': 'application/json' },
      });
    const bytes = await send(
      Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    );
    expect(bytes.statusCode).toBe(400);
    expect(bytes.headers['content-type']).toContain('application/problem+json');
    expect(bytes.json()).toMatchObject({ code: 'invalid_utf8' });
    for (const payload of [
      '{"name":"\\ud800"}',
      '{"name":"a\\udc00b"}',
      '{"name":"\\ud83d\\u0041"}',
      '{"\\ud800":"x","name":"a"}',
    ]) {
      const res = await send(payload);
      expect(res.statusCode, payload).toBe(400);
      expect(res.json(), payload).toMatchObject({ code: 'invalid_unicode' });
    }
    for (const [payload, name] of [
      ['{"name":"\\ud83d\\ude00"}', '\u{1F600}'],
      ['{"name":"\u{1F600}é"}', '\u{1F600}é'],
      ['{"name":"\\\\ud800"}', '\\ud800'],
      ['{"name":"\\u00e9\\uFFFD"}', 'é\uFFFD'],
    ] as const) {
      const res = await send(payload);
      expect(res.statusCode, payload).toBe(200);
      expect(res.json(), payload).toEqual({ got: name });
    }
  });

  it('refuses a request with two Host lines with 400 (RFC 9112 §3.2)', async () => {
    const server = build();
    await server.listen({ host: '127.0.0.1', port: 0 });
    const port = (server.server.address() as AddressInfo).port;
    const send = (head: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`${head}connection: close\r\n\r\n`));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const twice = await send('GET /things?limit=3 HTTP/1.1\r\nhost: a.example\r\nHost: b.example\r\n');
    expect(twice).toMatch(/^HTTP\/1\.1 400 /);
    expect(twice).toContain('application/problem+json');
    expect(twice).toContain('"code":"repeated_host"');
    expect(await send('GET /things?limit=3 HTTP/1.1\r\nhost: a.example\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers 415 for a wrong content type, 413 over the body limit, 405 for a wrong method, 404 otherwise', async () => {
    const server = build();
    const text = await server.inject({
      method: 'POST',
      url: '/things',
      payload: 'name=a',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.statusCode).toBe(415);
    const big = await server.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(2000) } });
    expect(big.statusCode).toBe(413);
    const method = await server.inject({ method: 'DELETE', url: '/things' });
    expect(method.statusCode).toBe(405);
    // RFC 9110 §15.5.6: a 405 lists what the resource supports (GET brings HEAD; CORS answers OPTIONS).
    expect(method.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    const parametric = await server.inject({ method: 'GET', url: '/things/42?x=1' });
    expect(parametric.statusCode).toBe(405);
    expect(parametric.headers.allow).toBe('PATCH, OPTIONS');
    const missing = await server.inject({ url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('not_found');
  });

  it('renders typed errors with their code and hides internals of unknown errors', async () => {
    const logs = captureLogs();
    const server = build([], logs);
    const conflict = await server.inject({ url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      code: 'email_taken',
      detail: 'a user with this email already exists',
    });
    const boom = await server.inject({ url: '/boom', headers: { 'x-request-id': 'req-boom' } });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('db-7');
    expect(boom.json()).toEqual({
      type: 'https://tessera.dev/problems/internal',
      title: 'Internal Server Error',
      status: 500,
      code: 'internal',
      requestId: 'req-boom',
    });
    const errors = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'error reported',
      kind: 'request',
      requestId: 'req-boom',
      route: '/boom',
      method: 'GET',
      status: 500,
    });
    expect(errors[0].err.message).toContain('db-7');
  });

  it('sends security headers and allows only listed CORS origins', async () => {
    const server = build();
    const res = await server.inject({ url: '/livez', headers: { origin: 'https://app.example' } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const foreign = await server.inject({ url: '/livez', headers: { origin: 'https://evil.example' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await server.inject({
      method: 'OPTIONS',
      url: '/things',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-max-age']).toBe('600');
  });

  it('refuses "*" with credentials at build time', () => {
    expect(() =>
      createHttpServer({
        name: 'x',
        logger: createLogger({ name: 'x', destination: captureLogs().stream }),
        corsOrigins: ['*'],
        corsCredentials: true,
      }),
    ).toThrow(TypeError);
  });

  it('reports readiness: 503 when a critical check fails, 200 degraded when a non-critical one fails', async () => {
    let dbUp = true;
    const server = build([
      {
        name: 'postgres',
        critical: true,
        check: async () => {
          if (!dbUp) throw new Error('down');
        },
      },
      {
        name: 'redis',
        critical: false,
        check: async () => {
          throw new Error('down');
        },
      },
    ]);
    const degraded = await server.inject({ url: '/readyz' });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toEqual({ status: 'degraded', checks: { postgres: 'up', redis: 'down' } });
    dbUp = false;
    const down = await server.inject({ url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json().status).toBe('unavailable');
  });

  it('asks for the bearer token on /metrics when one is configured, and leaves health open', async () => {
    const logs = captureLogs();
    app = createHttpServer({
      name: 'test',
      logger: createLogger({ name: 'test', level: 'info', destination: logs.stream }),
      metricsToken: 'scrape-secret-1234',
    });
    const none = await app.inject({ url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.body).not.toContain('nodejs_');
    const wrong = await app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer scrape-secret-123' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer scrape-secret-1234' },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('nodejs_eventloop_lag_seconds');
    expect((await app.inject({ url: '/livez' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    // The token never reaches the logs.
    expect(logs.lines.join('')).not.toContain('scrape-secret');
  });

  it('exposes Prometheus RED metrics by route template and status', async () => {
    const server = build();
    await server.inject({ url: '/things?limit=1' });
    await server.inject({ url: '/things?limit=99' });
    const text = (await server.inject({ url: '/metrics' })).body;
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/things",status_code="200",service="test"\} 1/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/things",status_code="400",service="test"\} 1/,
    );
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});
