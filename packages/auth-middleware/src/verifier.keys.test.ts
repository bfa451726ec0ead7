import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifierOptions } from './options.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A test issuer whose tokens and the verifier share one hand-driven clock. */
async function setup(options: Partial<TokenVerifierOptions> = {}) {
  const clock = { ms: Date.now() };
  const now = () => clock.ms;
  const issuer = await createTestIssuer({ now });
  cleanups.push(() => issuer.close());
  const verifier = createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
    now,
    ...options,
  });
  const advance = (seconds: number) => {
    clock.ms += seconds * 1000;
  };
  return { issuer, verifier, now, advance };
}

/** An HTTP server counting requests, answering with `respond` (a JWKS proxy or a failure). */
async function startServer(respond: (res: ServerResponse) => Promise<void> | void) {
  const hits = { count: 0 };
  const server: Server = createServer((_req, res) => {
    hits.count++;
    void respond(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, hits };
}

/** A JWKS endpoint in front of `issuer` that can be switched to failing. */
async function flakyJwks(issuer: TestIssuer) {
  const state = { failWith: undefined as number | 'garbage' | undefined };
  const server = await startServer(async (res) => {
    if (state.failWith === 'garbage')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":');
    else if (state.failWith) res.writeHead(state.failWith).end();
    else
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(await (await fetch(issuer.jwksUrl)).text());
  });
  return { ...server, state };
}

const unknownKid = (issuer: TestIssuer, n: number) => issuer.mint({}, { header: { kid: `unknown-${n}` } });
const UNAVAILABLE = {
  code: 'temporarily_unavailable',
  status: 503,
  message: 'the issuer keys are unavailable',
};

describe('fetching the issuer JWKS', () => {
  it('fetches the JWKS on first use, not when the verifier is built, then reuses it', async () => {
    const { issuer, verifier } = await setup();
    expect(issuer.fetchCount()).toBe(0);
    await verifier.verify(await issuer.mint());
    await verifier.verify(await issuer.mint({}, { alg: 'EdDSA' }));
    expect(issuer.fetchCount()).toBe(1);
  });

  it('refetches on an unknown kid exactly once within the 30 s cooldown', async () => {
    const { issuer, verifier, advance } = await setup();
    await verifier.verify(await issuer.mint());
    expect(issuer.fetchCount()).toBe(1);

    // Within 30 s of the first fetch: an unknown kid is simply rejected.
    advance(29);
    await expect(verifier.verify(await unknownKid(issuer, 0))).rejects.toMatchObject({ status: 401 });
    expect(issuer.fetchCount()).toBe(1);

    // Past the cooldown: a burst of unknown kids, concurrent and sequential, causes one fetch.
    advance(2);
    const burst = await Promise.all([1, 2, 3, 4, 5].map((n) => unknownKid(issuer, n)));
    const results = await Promise.allSettled(burst.map((token) => verifier.verify(token)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (let n = 6; n < 20; n++) await verifier.verify(await unknownKid(issuer, n)).catch(() => undefined);
    advance(29);
    await expect(verifier.verify(await unknownKid(issuer, 21))).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'no issuer key matches the token',
    });
    expect(issuer.fetchCount()).toBe(2);

    // 30 s after that refetch, the next unknown kid may refetch again.
    advance(1);
    await verifier.verify(await unknownKid(issuer, 22)).catch(() => undefined);
    expect(issuer.fetchCount()).toBe(3);
  });

  it('accepts a token signed by a newly published key once the cooldown allows a refetch', async () => {
    const { issuer, verifier, advance } = await setup();
    await verifier.verify(await issuer.mint());
    const rotated = await issuer.addKey('ES256');
    const token = await issuer.mint({ sub: 'after-rotation' }, { kid: rotated });
    await expect(verifier.verify(token)).rejects.toMatchObject({
      message: 'no issuer key matches the token',
    });
    advance(30);
    expect((await verifier.verify(token)).sub).toBe('after-rotation');
    expect(issuer.fetchCount()).toBe(2);
  });

  it('honours a configured cooldown', async () => {
    const { issuer, verifier, advance } = await setup({ jwks: { cooldownSec: 5 } });
    await verifier.verify(await issuer.mint());
    advance(4);
    await verifier.verify(await unknownKid(issuer, 1)).catch(() => undefined);
    expect(issuer.fetchCount()).toBe(1);
    advance(1);
    await verifier.verify(await unknownKid(issuer, 2)).catch(() => undefined);
    expect(issuer.fetchCount()).toBe(2);
  });

  it('refreshes the key set on the first use after ten minutes', async () => {
    const { issuer, verifier, advance } = await setup({ cache: { max: 0 } });
    await verifier.verify(await issuer.mint());
    advance(599);
    await verifier.verify(await issuer.mint());
    expect(issuer.fetchCount()).toBe(1);
    advance(1);
    await verifier.verify(await issuer.mint());
    expect(issuer.fetchCount()).toBe(2);
  });

  it('keeps verifying with the cached keys when a refresh fails', async () => {
    const { issuer, now, advance } = await setup();
    const jwks = await flakyJwks(issuer);
    const verifier = createTokenVerifier({
      jwksUrl: jwks.url,
      issuer: issuer.issuer,
      audience: 'tessera-api',
      now,
    });
    await verifier.verify(await issuer.mint());
    jwks.state.failWith = 500;
    advance(601);
    await expect(verifier.verify(await issuer.mint())).resolves.toBeDefined();
    await expect(verifier.verify(await issuer.mint())).resolves.toBeDefined();
    expect(jwks.hits.count).toBe(2);
  });

  it('reports an unreachable JWKS as temporarily unavailable (503), not as an invalid token', async () => {
    const { issuer } = await setup();
    const verifier = createTokenVerifier({
      jwksUrl: 'http://127.0.0.1:1/jwks.json',
      issuer: issuer.issuer,
      audience: 'tessera-api',
    });
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject(UNAVAILABLE);
  });

  it('reports a JWKS endpoint answering 500, a redirect or invalid JSON as temporarily unavailable', async () => {
    const { issuer, now, advance } = await setup();
    const jwks = await flakyJwks(issuer);
    const verifier = createTokenVerifier({
      jwksUrl: jwks.url,
      issuer: issuer.issuer,
      audience: 'tessera-api',
      now,
    });
    for (const failWith of [500, 302, 'garbage'] as const) {
      jwks.state.failWith = failWith;
      await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject(UNAVAILABLE);
      advance(5);
    }
    expect(jwks.hits.count).toBe(3);
  });

  it('retries a failed first fetch after 5 s rather than on every request', async () => {
    const { issuer, now, advance } = await setup();
    const jwks = await flakyJwks(issuer);
    jwks.state.failWith = 503;
    const verifier = createTokenVerifier({
      jwksUrl: jwks.url,
      issuer: issuer.issuer,
      audience: 'tessera-api',
      now,
    });
    for (let i = 0; i < 5; i++)
      await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject(UNAVAILABLE);
    expect(jwks.hits.count).toBe(1);
    jwks.state.failWith = undefined;
    advance(5);
    await expect(verifier.verify(await issuer.mint())).resolves.toBeDefined();
    expect(jwks.hits.count).toBe(2);
  });

  it('reports a failing key resolver passed as keys as temporarily unavailable', async () => {
    const { issuer } = await setup();
    const verifier = createTokenVerifier({
      keys: async () => {
        throw new Error('connection to the key store lost');
      },
      issuer: issuer.issuer,
      audience: 'tessera-api',
    });
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject(UNAVAILABLE);
  });

  it('rejects a token without kid when several issuer keys fit its algorithm', async () => {
    const { issuer, verifier } = await setup();
    await issuer.addKey('ES256');
    await expect(
      verifier.verify(await issuer.mint({}, { header: { kid: undefined } })),
    ).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'the token has no key id and several issuer keys match',
    });
  });
});

describe('keys named by the token', () => {
  it('ignores jku, x5u and embedded jwk headers: a self-signed token is rejected and nothing is fetched', async () => {
    const { issuer, verifier } = await setup();
    const attacker = await startServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });
    const key = await generateKeyPair('ES256');
    const jwk = await exportJWK(key.publicKey);
    for (const header of [
      { jku: attacker.url },
      { x5u: attacker.url },
      { jwk },
      { jwk, jku: attacker.url },
    ]) {
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({
        iss: issuer.issuer,
        aud: 'tessera-api',
        sub: 'admin',
        client_id: 'c',
        jti: 'j',
        iat: now,
        exp: now + 60,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
        .sign(key.privateKey);
      await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
    }
    expect(attacker.hits.count).toBe(0);
  });

  it('verifies a genuine token carrying a jku header with the issuer keys only', async () => {
    const { issuer, verifier } = await setup();
    const attacker = await startServer((res) => {
      res.writeHead(500).end();
    });
    const token = await issuer.mint({ sub: 'u' }, { header: { jku: attacker.url, x5u: attacker.url } });
    expect((await verifier.verify(token)).sub).toBe('u');
    expect(attacker.hits.count).toBe(0);
  });

  it('answers hostile kids with invalid_token and without extra JWKS fetches', async () => {
    const { issuer, verifier } = await setup();
    await verifier.verify(await issuer.mint());
    const kids: unknown[] = [
      '../../../../etc/passwd',
      "' OR 1=1; DROP TABLE keys; --",
      '<script>alert(1)</script>',
      '\u0000\u202e',
      'k'.repeat(300),
      'k'.repeat(10 * 1024),
      42,
      { $ne: null },
    ];
    for (const kid of kids) {
      await expect(verifier.verify(await issuer.mint({}, { header: { kid } }))).rejects.toMatchObject({
        code: 'invalid_token',
        status: 401,
      });
    }
    expect(issuer.fetchCount()).toBe(1);
  });
});

describe('checks before any crypto', () => {
  it('rejects a token over 8 KB without fetching any key', async () => {
    const { issuer, verifier } = await setup();
    const huge = await issuer.mint({ padding: 'x'.repeat(9000) });
    expect(huge.length).toBeGreaterThan(8192);
    await expect(verifier.verify(huge)).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
      message: 'the token is too large',
    });
    expect(issuer.fetchCount()).toBe(0);
  });

  it('honours a smaller maxTokenBytes', async () => {
    const { issuer, verifier } = await setup({ maxTokenBytes: 300 });
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject({
      message: 'the token is too large',
    });
  });

  it('rejects malformed tokens and foreign headers without fetching any key', async () => {
    const { issuer, verifier } = await setup();
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const malformed: unknown[] = [
      '',
      'a.b',
      'a.b.c.d',
      '!!!.???.***',
      'a b.c.d',
      'é.e30.c2ln',
      `${b64({ alg: 'ES256', typ: 'at+jwt' }).padEnd(1100, 'A')}.e30.c2ln`,
      `${Buffer.from('not json').toString('base64url')}.e30.c2ln`,
      `${b64(['ES256'])}.e30.c2ln`,
      `${b64({ typ: 'at+jwt' })}.e30.c2ln`,
      `${b64({ alg: 'ES256' })}.e30.c2ln`,
      `${b64({ alg: 'RSA-OAEP', typ: 'at+jwt' })}.e30.c2ln`,
      undefined,
      42,
    ];
    for (const token of malformed) {
      await expect(verifier.verify(token as string)).rejects.toMatchObject({
        code: 'invalid_token',
        status: 401,
      });
    }
    expect(issuer.fetchCount()).toBe(0);
  });
});
