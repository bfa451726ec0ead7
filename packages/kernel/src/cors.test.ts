import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from './http.ts';
import { createLogger } from './logger.ts';
import { CORS_ALLOW_METHODS, originAllowlist } from './cors.ts';

const APP = 'https://app.example';
let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(corsOrigins: string[], corsCredentials: boolean): HttpServer {
  const quiet = new Writable({ write: (_chunk, _enc, cb) => cb() });
  app = createHttpServer({
    name: 'cors-test',
    logger: createLogger({ name: 'cors-test', destination: quiet }),
    corsOrigins,
    corsCredentials,
  });
  app.get('/things', async () => ({ ok: true }));
  app.patch('/things/:id', async () => ({ ok: true }));
  app.delete('/things/:id', async () => ({ ok: true }));
  return app;
}

describe('CORS on every Tessera server', () => {
  it('marks every answer as varying by Origin, and tells a request without one nothing else', async () => {
    const res = await build([APP], true).inject({ url: '/things' });
    expect(res.statusCode).toBe(200);
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('echoes a listed origin with credentials and the readable headers; a foreign one gets no allow header', async () => {
    const server = build([APP], true);
    const listed = await server.inject({ url: '/things', headers: { origin: APP } });
    expect(listed.headers['access-control-allow-origin']).toBe(APP);
    expect(listed.headers['access-control-allow-credentials']).toBe('true');
    expect(listed.headers['access-control-expose-headers']).toContain('x-request-id');
    expect(listed.headers['access-control-expose-headers']).toContain('location');
    const foreign = await server.inject({ url: '/things', headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers['access-control-allow-credentials']).toBeUndefined();
    expect(foreign.headers.vary).toBe('Origin');
  });

  it('answers a preflight for PATCH and DELETE before any route runs, cached ten minutes', async () => {
    const server = build([APP], true);
    for (const method of ['PATCH', 'DELETE']) {
      const res = await server.inject({
        method: 'OPTIONS',
        url: '/things/42',
        headers: {
          origin: APP,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(String(res.headers['access-control-allow-methods']).split(', ')).toContain(method);
      expect(res.headers['access-control-allow-headers']).toContain('authorization');
      expect(res.headers['access-control-allow-headers']).toContain('content-type');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-request-id']).toBeTruthy();
    }
    expect(CORS_ALLOW_METHODS).toContain('PUT');
  });

  it('answers a foreign preflight without allow headers, so the browser refuses the real request', async () => {
    const res = await build([APP], true).inject({
      method: 'OPTIONS',
      url: '/things/42',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('answers a plain OPTIONS with the methods the resource supports (RFC 9110 §9.3.7), 404 for no resource', async () => {
    const server = build([APP], true);
    const known = await server.inject({ method: 'OPTIONS', url: '/things/42' });
    expect(known.statusCode).toBe(204);
    expect(known.headers.allow).toBe('PATCH, DELETE, OPTIONS');
    const unknown = await server.inject({ method: 'OPTIONS', url: '/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
  });

  it('allows every origin with "*" (without credentials) and refuses "*" with credentials', async () => {
    const res = await build(['*'], false).inject({
      url: '/things',
      headers: { origin: 'https://any.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('https://any.example');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(() => originAllowlist(['*'], true)).toThrow(TypeError);
    expect(originAllowlist([APP]).has('https://app.example.evil')).toBe(false);
  });

  it('with no origins listed, allows none', async () => {
    const res = await build([], false).inject({
      method: 'OPTIONS',
      url: '/things',
      headers: { origin: APP, 'access-control-request-method': 'GET' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
