/**
 * Hostile input against every operation the auth service documents (the requests come from its
 * OpenAPI document, `hostileRequests` in `@tessera/kernel/testing`), as the user service's test
 * does. Never a 5xx; each refusal in the shape its caller reads: the admin API answers problem
 * documents, the token, introspection and revocation endpoints RFC 6749 §5.2 error JSON, userinfo
 * RFC 6750 errors, and the browser pages an HTML page or a problem document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import {
  hostileRequests,
  problemDocumentExpected,
  sendHostile,
  type HostileRequest,
  type HostileResponse,
  type OpenApiDocument,
} from '@tessera/kernel/testing';
import { MemoryUsers } from './flows/testing.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from './testing.ts';

let database: TestAuthDatabase;
let server: StartedAuthServer;
beforeAll(async () => {
  database = await createTestAuthDatabase();
  server = await startAuthServer({ db: database.db, conn: database.conn, users: new MemoryUsers() });
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

/** Endpoints a client authenticates to with its own credentials (Basic), answering RFC 6749 JSON. */
const CLIENT_ENDPOINTS = ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'];

function expectedAnswer(req: HostileRequest, res: HostileResponse): string | undefined {
  if (res.status < 400) return undefined;
  const path = req.path.split('?', 1)[0]!;
  if (path.startsWith('/v1/')) return problemDocumentExpected(req, res);
  if (CLIENT_ENDPOINTS.includes(path) || path === '/oauth2/userinfo') {
    if (!res.contentType.startsWith('application/json')) return 'not OAuth error JSON';
    const body = JSON.parse(res.body || '{}') as { error?: unknown };
    return typeof body.error === 'string' ? undefined : 'no error member';
  }
  // The browser pages: an error page, or a problem document for what no browser sends.
  if (res.contentType.startsWith('text/html')) return undefined;
  return problemDocumentExpected(req, res);
}

describe('hostile input (auth service)', () => {
  it('answers every hostile request with a 4xx its caller can read, never a 5xx', async () => {
    const doc = (await request(server.url).get('/openapi.json')).body as OpenApiDocument;
    const { secret } = await server.auth.clients.create({
      clientId: 'admin-tool',
      name: 'admin tool',
      type: 'confidential',
      scopes: ['clients:read', 'clients:write', 'keys:read', 'keys:write'],
    });
    const basic = `Basic ${Buffer.from(`admin-tool:${secret}`).toString('base64')}`;
    const token = await request(server.url)
      .post('/oauth2/token')
      .type('form')
      .set('authorization', basic)
      .send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    const uuid = '0193a000-0000-7000-8000-000000000000';
    const requests = [
      ...hostileRequests(doc, {
        uuid,
        headers: { authorization: `Bearer ${token.body.access_token as string}` },
        only: (path) => !CLIENT_ENDPOINTS.includes(path),
      }),
      ...hostileRequests(doc, {
        uuid,
        headers: { authorization: basic },
        only: (path) => CLIENT_ENDPOINTS.includes(path),
      }),
    ];
    const report = await sendHostile(server.url, requests, expectedAnswer);
    expect(report.findings).toEqual([]);
    // Sanity: every part of the API was reached, and the protocol endpoints among them.
    expect(report.sent).toBeGreaterThan(800);
    expect(requests.filter((r) => r.path.startsWith('/oauth2/token')).length).toBeGreaterThan(5);
    expect(report.statuses[400]).toBeGreaterThan(600);
    expect((await request(server.url).get('/livez')).status).toBe(200);
  }, 60_000);
});
