import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@tessera/kernel';
import { buildGatewayApp, type Gateway } from './app.ts';
import { defaultGatewayConfig } from './config.ts';

/** The proxied path of the gateway's response: status, headers and body relayed without Fastify's stream piping. */

type Handle = (req: IncomingMessage, res: ServerResponse) => void;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const quiet = createLogger({
  name: 'gateway',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

async function upstream(handle: Handle): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(200).end();
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function gateway(url: string): Promise<{ gw: Gateway; base: string }> {
  const gw = await buildGatewayApp({
    config: defaultGatewayConfig({ healthIntervalMs: 60_000, pools: { users: { blue: [url] } } }),
    logger: quiet,
  });
  await gw.app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => gw.app.close());
  return { gw, base: `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}` };
}

/** A raw client request that reports the response (or the connection error) as it happened. */
function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (err) =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          error: err.message,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relaying upstream responses', () => {
  it('streams a large chunked body intact, merging edge and upstream headers (the upstream wins)', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 'x');
    const url = await upstream((_req, res) => {
      res.writeHead(201, {
        'content-type': 'application/octet-stream',
        'content-security-policy': "default-src 'self'",
        'x-upstream': ['a', 'b'],
        server: 'upstream/1.0',
        connection: 'keep-alive',
      });
      // Chunks written one by one: the client side applies back-pressure.
      let offset = 0;
      const pump = () => {
        while (offset < payload.length) {
          const chunk = payload.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const { base } = await gateway(url);
    const res = await get(`${base}/v1/users/big`);
    expect(res.error).toBeUndefined();
    expect(res.status).toBe(201);
    expect(res.body.length).toBe(payload.length);
    expect(res.body.equals(payload)).toBe(true);
    expect(res.headers['content-security-policy']).toBe("default-src 'self'; frame-ancestors 'none'");
    expect(res.headers['x-upstream']).toBe('a, b');
    expect(res.headers.server).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['ratelimit-policy']).toBe('"api-ip";q=1200;w=60');
    expect(res.headers['x-request-id']).toBeDefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it('answers HEAD with the upstream headers and no body', async () => {
    const url = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '42' });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(42));
    });
    const { base } = await gateway(url);
    const res = await get(`${base}/v1/users/1`, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('42');
    expect(res.body.length).toBe(0);
  });

  it('aborts the upstream request when the client goes away mid-response', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const url = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      res.on('close', () => upstreamClosed());
      // never ends: only the client's departure can end this exchange
    });
    const { base } = await gateway(url);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${base}/v1/users/slow`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    await closed;
  });

  it('cuts the client connection when the upstream fails mid-body and counts it', async () => {
    const url = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('only ten b');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { gw, base } = await gateway(url);
    const res = await get(`${base}/v1/users/broken`).catch((err: Error) => ({ error: err.message }));
    expect(res.error).toBeDefined();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /tessera_upstream_errors_total\{upstream="users",kind="body",service="gateway"\} 1/,
    );
    // The gateway stays healthy for the next request.
    expect(gw.pools.get('users')!.sets.blue[0]!.healthy).toBe(true);
  });
});
