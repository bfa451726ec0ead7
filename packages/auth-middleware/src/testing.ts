import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A local issuer for tests: a key set served on a loopback JWKS endpoint, and a token minter. */
export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** JWKS fetches served so far. */
  fetchCount(): number;
  /**
   * Signs an access token (typ at+jwt, ES256) with sensible defaults; `claims` override them,
   * `header` overrides the protected header, `expiresIn` is in seconds.
   */
  mint(
    claims?: Record<string, unknown>,
    options?: { header?: Record<string, unknown>; expiresIn?: number; kid?: string },
  ): Promise<string>;
  /** Adds a key to the served set (for rotation tests) and returns its kid. */
  addKey(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a test issuer until the real auth service is running in a test.
 *
 * @example
 * const issuer = await createTestIssuer();
 * const token = await issuer.mint({ sub: userId, permissions: ['users:read'] });
 * afterAll(() => issuer.close());
 */
export async function createTestIssuer(
  options: { issuer?: string; audience?: string } = {},
): Promise<TestIssuer> {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  let fetches = 0;
  const addKey = async () => {
    const kid = randomUUID();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
    return kid;
  };
  const firstKid = await addKey();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.issuer ?? base;
  const audience = options.audience ?? 'tessera-api';
  return {
    issuer,
    jwksUrl: `${base}/jwks.json`,
    audience,
    fetchCount: () => fetches,
    addKey,
    async mint(claims = {}, mintOptions = {}) {
      const kid = mintOptions.kid ?? firstKid;
      const key = keys.get(kid);
      if (!key) throw new Error(`unknown test kid ${kid}`);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        sub: randomUUID(),
        aud: audience,
        client_id: 'test-client',
        scope: '',
        jti: randomUUID(),
        iat: now,
        nbf: now,
        exp: now + (mintOptions.expiresIn ?? 300),
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...mintOptions.header })
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
