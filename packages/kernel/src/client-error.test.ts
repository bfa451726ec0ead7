import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from './http.ts';
import { createLogger } from './logger.ts';

let app: HttpServer;
let port: number;
beforeAll(async () => {
  app = createHttpServer({
    name: 'test',
    logger: createLogger({
      name: 'test',
      level: 'silent',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    }),
  });
  app.get('/ok', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
afterAll(() => app.close());

/** Sends raw bytes and reads until the server closes the connection (bounded by a timeout). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

describe('requests the HTTP parser refuses', () => {
  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc',
    ],
    ['a malformed request line', 'GET /ok HTTP/9\r\nHost: a\r\n\r\n'],
    ['an obs-fold header', 'GET /ok HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n'],
  ])('answer %s with 400 problem+json and close', async (_name, request) => {
    const response = await raw(request);
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).toContain('Content-Type: application/problem+json');
    expect(response).toContain('Connection: close');
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 400,
      code: 'malformed_request',
      type: 'https://tessera.dev/problems/malformed-request',
    });
  });

  it('answers oversized headers with 431 problem+json', async () => {
    const response = await raw(`GET /ok HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(response).toContain('"code":"headers_too_large"');
  });

  it('answers a request target too long for the parser with 414, not 431', async () => {
    const response = await raw(`GET /ok?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
    expect(response).toContain('"code":"uri_too_long"');
  });

  it('still answers a well-formed request normally', async () => {
    expect(await raw('GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200 OK/,
    );
  });
});
