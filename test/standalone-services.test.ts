/**
 * `npm run start:users`, `start:auth` and `start:gateway`: the three services, each alone in its
 * own production process, wired to each other over loopback HTTP like a split deployment — one
 * fresh PostgreSQL database (each service its own schema), one Redis database of their own, the
 * gateway's URL as the issuer. Discovery, JWKS, problem documents and a client_credentials token
 * (for a client created with the admin CLI) work end to end through the gateway; SIGTERM stops
 * each with exit code 0. Missing or broken configuration stops auth and the gateway with exit
 * code 1 and one line naming the variable.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@tessera/db/testing';
import {
  errorLogLines,
  onFreshPorts,
  redisDatabaseUrl,
  root,
  runAlone,
  serviceEnv,
  startService,
  terminate,
  waitReady,
  type ServiceProcess,
} from './support/standalone.ts';

/** A Redis database no other test file uses (3, 4: the platform tests; 7: standalone-users). */
const REDIS_DATABASE = 8;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers, signal: AbortSignal.timeout(5_000) });

async function expectProblem(response: Response, status: number): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(((await response.json()) as { status: number }).status).toBe(status);
}

/** `npm run tessera -- clients create …` on the shared database: the client id and its secret. */
async function createServiceClient(databaseUrl: string): Promise<{ clientId: string; secret: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      'apps/platform/src/cli.ts',
      'clients',
      'create',
      '--name',
      'standalone test service',
      '--type',
      'confidential',
      '--grant',
      'client_credentials',
      '--scope',
      'users:read',
    ],
    { cwd: root, env: serviceEnv({ DATABASE_URL: databaseUrl }), timeout: 30_000, killSignal: 'SIGKILL' },
  );
  const secret = /^client secret \(shown once\): (\S+)$/m.exec(stdout)?.[1];
  if (!secret) throw new Error(`the CLI printed no secret:\n${stdout}`);
  const { clientId } = JSON.parse(stdout.slice(0, stdout.indexOf('client secret'))) as { clientId: string };
  return { clientId, secret };
}

describe('users, auth and gateway each started alone and wired together (npm run start:<service>)', () => {
  it('serve discovery, JWKS, problem documents and a client_credentials token through the gateway, then exit 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const started: ServiceProcess[] = [];
    const logs = () => started.map((s) => `--- ${s.name}\n${s.output()}`).join('\n');
    // Meanwhile, the admin CLI registers a service client in auth's tables of the same database.
    const client = createServiceClient(database.url);
    const { users, auth, gateway, gatewayUrl } = await onFreshPorts(3, async (ports) => {
      const [usersPort, authPort, gatewayPort] = ports as [number, number, number];
      const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const shared = {
        DATABASE_URL: database.url,
        REDIS_URL: redisDatabaseUrl(REDIS_DATABASE),
        // The issuer is the public URL: the gateway's.
        TESSERA_PUBLIC_URL: gatewayUrl,
        TESSERA_JWKS_URL: `http://127.0.0.1:${authPort}/jwks.json`,
        METRICS_TOKEN: 'standalone-metrics-token',
      };
      const start = (...args: Parameters<typeof startService>) => {
        const service = startService(...args);
        started.push(service);
        // Whatever happens below, no process outlives the test.
        cleanups.push(() => service.kill());
        return service;
      };
      const users = start('users', usersPort, { ...shared, USERS_PORT: String(usersPort) });
      const auth = start('auth', authPort, {
        ...shared,
        AUTH_PORT: String(authPort),
        TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
        TESSERA_USERS_URL: users.base,
      });
      const gateway = start('gateway', gatewayPort, {
        ...shared,
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_AUTH_UPSTREAMS: auth.base,
        GATEWAY_USERS_UPSTREAMS: users.base,
      });
      try {
        for (const service of [users, auth, gateway]) {
          const ready = await waitReady(service);
          expect(ready?.status, `${service.name} not ready within 30 s:\n${logs()}`).toBe(200);
        }
      } catch (err) {
        // Another try starts all three again (the issuer names the gateway's port).
        await Promise.all([users, auth, gateway].map((service) => service.kill()));
        started.length = 0;
        throw err;
      }
      return { users, auth, gateway, gatewayUrl };
    });

    const discovery = await get(`${gatewayUrl}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as { issuer: string; token_endpoint: string; jwks_uri: string };
    expect(metadata.issuer).toBe(gatewayUrl);
    expect(metadata.token_endpoint).toBe(`${gatewayUrl}/oauth2/token`);
    const jwks = await get(`${gatewayUrl}/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThanOrEqual(1);

    await expectProblem(await get(`${gatewayUrl}/v1/users`), 401);
    await expectProblem(await get(`${gatewayUrl}/no-such-route`), 404);
    // METRICS_TOKEN reaches every service: /metrics answers only the scraper holding it.
    for (const service of [users, auth, gateway]) {
      await expectProblem(await get(`${service.base}/metrics`), 401);
      const scraped = await get(`${service.base}/metrics`, {
        authorization: 'Bearer standalone-metrics-token',
      });
      expect(scraped.status, service.name).toBe(200);
      expect(await scraped.text()).toContain(`service="${service.name}"`);
    }

    // A client_credentials token from auth (via the gateway), checked by users against auth's JWKS.
    const { clientId, secret } = await client;
    const tokenResponse = await fetch(`${gatewayUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'users:read' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(tokenResponse.status, logs()).toBe(200);
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${token}` };
    const list = await get(`${gatewayUrl}/v1/users`, bearer);
    expect(list.status, logs()).toBe(200);
    expect(await list.json()).toEqual({ items: [], nextCursor: null });
    // users:read reaches the object route too: an unknown id is a 404 from the user service.
    await expectProblem(await get(`${gatewayUrl}/v1/users/${randomUUID()}`, bearer), 404);
    // A tampered token is refused.
    await expectProblem(await get(`${gatewayUrl}/v1/users`, { authorization: `Bearer ${token}x` }), 401);

    // Gateway first (no more traffic), then the services behind it.
    for (const service of [gateway, auth, users]) {
      expect(await terminate(service), `${service.name}:\n${service.output()}`).toBe(0);
    }
    // Nothing above warn in production logs on a clean start, these requests and a clean stop.
    expect(started.flatMap((s) => errorLogLines(s.output()))).toEqual([]);
  }, 60_000);

  it('auth alone refuses to start without its required configuration: exit code 1 and one line naming the variable', () => {
    const key = randomBytes(32).toString('base64');
    const cases: Array<[Record<string, string>, string]> = [
      [
        { DATABASE_URL: 'postgres://127.0.0.1:1/none' },
        'config: TESSERA_MASTER_KEY is required but not set (openssl rand -base64 32)',
      ],
      [
        {
          DATABASE_URL: 'postgres://127.0.0.1:1/none',
          TESSERA_MASTER_KEY: randomBytes(16).toString('base64'),
        },
        'config: TESSERA_MASTER_KEY must be 32 bytes encoded as base64',
      ],
      [{ TESSERA_MASTER_KEY: key }, 'config: AUTH_DATABASE_URL or DATABASE_URL is required but not set'],
    ];
    for (const [env, line] of cases) {
      const result = runAlone('auth', env);
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([line]);
    }
  });

  it('the gateway alone (no required variable) refuses a broken upstream list: exit code 1 and one line naming it', () => {
    for (const [variable, value] of [
      ['GATEWAY_AUTH_UPSTREAMS', 'not-a-url'],
      ['GATEWAY_USERS_UPSTREAMS', 'ftp://127.0.0.1:8082'],
    ] as const) {
      const result = runAlone('gateway', { [variable]: value, GATEWAY_PORT: '0' });
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `config: ${variable} must be a comma-separated list of http(s) URLs, got ${JSON.stringify(value)}`,
      ]);
    }
    const result = runAlone('gateway', { GATEWAY_PORT: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'config: GATEWAY_PORT must be an integer, got "eighty"',
    ]);
  });
});
