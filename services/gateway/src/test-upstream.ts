/**
 * Test support for the gateway's HTTP-level tests: real upstream servers on loopback that record
 * what reaches them, and a logger that writes nothing. Not used outside tests.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@tessera/kernel';

/** A real upstream process-like server on loopback that records what it received. */
export interface Upstream {
  url: string;
  name: string;
  /** Proxied requests that reached it (`/readyz` and the client-origins read aside). */
  hits: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  /** What `/readyz` says: 200 when true, 503 when false. */
  ready: boolean;
  /** Milliseconds before each answer. */
  delayMs: number;
  /**
   * `reset`: the socket of a proxied request is destroyed instead of answered (a connection
   * failure for the gateway), while `/readyz` stays up, so only passive ejection applies.
   */
  mode: 'ok' | 'reset';
  /** What `/internal/client-origins` answers (an auth upstream); undefined = 404. */
  clientOrigins?: string[];
  close(): Promise<void>;
}

/**
 * Starts an upstream on a free loopback port; it answers `{ from: name, url }` as JSON with a
 * `Server` and an `X-Powered-By` header (which the gateway must strip).
 *
 * @example
 * const users = await startUpstream('users');
 * const gw = await buildGatewayApp({ config: defaultGatewayConfig({ pools: { users: { blue: [users.url] } } }), logger: quietLogger });
 */
export async function startUpstream(name: string): Promise<Upstream> {
  const state: Upstream = {
    url: '',
    name,
    hits: [],
    ready: true,
    delayMs: 0,
    mode: 'ok',
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(state.ready ? 200 : 503).end();
      return;
    }
    if (req.url === '/internal/client-origins') {
      if (!state.clientOrigins) res.writeHead(404).end();
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ origins: state.clientOrigins }));
      return;
    }
    state.hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (state.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    const reply = () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'upstream/1.2.3',
        'x-powered-by': 'Express',
      });
      res.end(JSON.stringify({ from: name, url: req.url }));
    };
    req.resume();
    req.on('end', () => (state.delayMs ? setTimeout(reply, state.delayMs) : reply()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A logger that writes nothing, for gateways built in tests. */
export const quietLogger = createLogger({
  name: 'gateway',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
