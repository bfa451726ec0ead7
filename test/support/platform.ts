/**
 * The whole platform in this process on a fresh PostgreSQL database and a Redis database of its
 * own, plus a browser-like sign-in through the gateway. Shared by the observability tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createTestDatabase, TEST_REDIS_URL } from '@tessera/db/testing';
import { createLogger } from '@tessera/kernel';
import { startPlatform, type PlatformHandle } from '@tessera/platform';

export const ADMIN_EMAIL = 'observed-admin@example.com';
export const SPA_CALLBACK = 'http://localhost:5173/callback';

export interface TestPlatform {
  platform: PlatformHandle;
  gatewayUrl: string;
  adminPassword: string;
  demoServiceSecret: string;
  /** Stops the platform (flushing traces) and drops the database. */
  close(): Promise<void>;
}

/** A port nothing listens on right now (127.0.0.1). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Empties Redis database `index` (failing clearly when Redis is down) and returns its URL. */
async function freshRedisDatabase(index: number): Promise<string> {
  const url = new URL(TEST_REDIS_URL);
  url.pathname = `/${index}`;
  const { Redis } = await import('ioredis');
  const redis = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
  } catch {
    throw new Error(`Redis is not reachable at ${url.host}: start it (see ARCHITECTURE.md)`);
  }
  await redis.flushdb();
  redis.disconnect();
  return url.toString();
}

/**
 * Starts the platform on free ports. `redisDatabase` must differ between test files: the
 * platform's default key prefixes would otherwise meet.
 *
 * @example
 * const t = await startTestPlatform({ redisDatabase: 3, env: { OTEL_EXPORTER_OTLP_ENDPOINT: url } });
 */
export async function startTestPlatform(options: {
  redisDatabase: number;
  env?: Record<string, string>;
}): Promise<TestPlatform> {
  const db = await createTestDatabase();
  // One master key for every attempt: the first may have stored keys encrypted under it.
  const masterKey = randomBytes(32).toString('base64');
  const adminPassword = `pw-${randomBytes(12).toString('hex')}`;
  const demoServiceSecret = randomBytes(24).toString('base64url');
  const redisUrl = await freshRedisDatabase(options.redisDatabase);
  // The gateway's port must be known before it listens (it is the issuer), so it is chosen here
  // and another process may take it meanwhile: then start again on another. Auth and users take
  // port 0, which the platform holds from the moment it chooses it (port-reservations.ts).
  for (let attempt = 1; ; attempt++) {
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    try {
      const platform = await startPlatform({
        env: {
          DATABASE_URL: db.url,
          REDIS_URL: redisUrl,
          TESSERA_PUBLIC_URL: gatewayUrl,
          GATEWAY_PORT: String(gatewayPort),
          AUTH_PORT: '0',
          USERS_PORT: '0',
          TESSERA_ADMIN_EMAIL: ADMIN_EMAIL,
          TESSERA_ADMIN_PASSWORD: adminPassword,
          TESSERA_DEMO_SERVICE_SECRET: demoServiceSecret,
          TESSERA_MASTER_KEY: masterKey,
          TESSERA_DATA_DIR: `/tmp/tessera-test-${randomBytes(4).toString('hex')}`,
          ...options.env,
        },
        logger: createLogger({
          name: 'test-platform',
          level: 'warn',
          destination: new Writable({ write: (_c, _e, cb) => cb() }),
        }),
      });
      return {
        platform,
        gatewayUrl,
        adminPassword,
        demoServiceSecret,
        async close() {
          await platform.close();
          await db.drop();
        },
      };
    } catch (err) {
      if (attempt >= 3 || !isAddressInUse(err)) {
        await db.drop();
        throw err;
      }
    }
  }
}

function isAddressInUse(err: unknown): boolean {
  return (
    (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE' ||
    (err instanceof Error && /EADDRINUSE|already in use/.test(err.message))
  );
}
/** What a sign-in produced; `secrets` lists every credential-like value seen on the way. */
export interface SignIn {
  code: string;
  verifier: string;
  secrets: string[];
}

/**
 * Authorizes `demo-spa` with PKCE through the gateway like a browser: authorize → hosted login
 * form (CSRF, credentials) → redirects until the SPA's callback. `headers` go on every request.
 * `wrongPasswords` failed attempts come first.
 *
 * @example
 * const { code, verifier } = await signIn(t, { headers: { traceparent } });
 */
export async function signIn(
  t: TestPlatform,
  options: {
    headers?: Record<string, string>;
    wrongPasswords?: number;
    /** Another account than the seeded administrator, and the scope to ask for. */
    email?: string;
    password?: string;
    scope?: string;
  } = {},
): Promise<SignIn> {
  const email = options.email ?? ADMIN_EMAIL;
  const password = options.password ?? t.adminPassword;
  const headers = options.headers ?? {};
  const browser = request.agent(t.gatewayUrl);
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-spa',
    redirect_uri: SPA_CALLBACK,
    scope: options.scope ?? 'openid profile offline_access users:read',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const secrets = [verifier, password];
  let response = await browser.get(`/oauth2/authorize?${query.toString()}`).set(headers);
  for (let hop = 0; hop < 8; hop++) {
    if (response.status !== 302 && response.status !== 303) {
      throw new Error(`sign-in: unexpected ${response.status} at hop ${hop}`);
    }
    const location = new URL(response.headers.location as string, t.gatewayUrl);
    if (location.origin !== t.gatewayUrl) {
      const code = location.searchParams.get('code') ?? '';
      return { code, verifier, secrets: [...secrets, code].filter((s) => s.length >= 8) };
    }
    if (location.pathname !== '/login') {
      response = await browser.get(location.pathname + location.search).set(headers);
      continue;
    }
    const post = async (attempt: string) => {
      const page = await browser.get(location.pathname + location.search).set(headers);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      const interaction = /name="interaction" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      secrets.push(csrf);
      const res = await browser
        .post('/login')
        .set({ ...headers, origin: t.gatewayUrl })
        .type('form')
        .send({ csrf, interaction, email, password: attempt });
      for (const cookie of [res.headers['set-cookie'] ?? []].flat()) {
        secrets.push((cookie.split(';', 1)[0] ?? '').split('=').slice(1).join('='));
      }
      return res;
    };
    for (let n = 0; n < (options.wrongPasswords ?? 0); n++) {
      const failed = await post(`wrong-${n}-${randomBytes(4).toString('hex')}`);
      if (failed.status !== 401) throw new Error(`sign-in: a wrong password answered ${failed.status}`);
    }
    response = await post(password);
  }
  throw new Error('sign-in: the authorization did not come back to the client');
}

/**
 * Exchanges a code for tokens at the gateway's token endpoint.
 *
 * @example
 * const tokens = await exchangeCode(t, signedIn);
 */
export async function exchangeCode(
  t: TestPlatform,
  signedIn: SignIn,
  headers: Record<string, string> = {},
): Promise<{ access_token: string; id_token: string; refresh_token?: string }> {
  const res = await request(t.gatewayUrl).post('/oauth2/token').set(headers).type('form').send({
    grant_type: 'authorization_code',
    code: signedIn.code,
    redirect_uri: SPA_CALLBACK,
    client_id: 'demo-spa',
    code_verifier: signedIn.verifier,
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
  return res.body as { access_token: string; id_token: string; refresh_token?: string };
}
