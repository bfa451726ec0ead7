/**
 * A stand-in issuer for tests (`@tessera/auth-middleware/testing`): an ES256 and an EdDSA key
 * served as a JWKS on 127.0.0.1, and a minter of RFC 9068 access tokens signed with them. Never
 * import this from production code.
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * Algorithms the test issuer signs with.
 *
 * @example
 * await issuer.mint({}, { alg: 'EdDSA' satisfies TestAlgorithm });
 */
export type TestAlgorithm = 'ES256' | 'EdDSA';

/**
 * Options of {@link TestIssuer.mint}.
 *
 * @example
 * const options: MintOptions = { expiresIn: 60, header: { typ: 'JWT' } };
 * await issuer.mint({ scope: 'users:read' }, options);
 */
export interface MintOptions {
  /** Signing algorithm when `kid` is not given (default ES256). */
  alg?: TestAlgorithm;
  /** Sign with this key of the set (see {@link TestIssuer.addKey}). */
  kid?: string;
  /** Overrides of the protected header (`{ typ: undefined }` removes one). */
  header?: Record<string, unknown>;
  /** Lifetime in seconds (default 300). */
  expiresIn?: number;
}

/**
 * A local issuer: a key set on a loopback JWKS endpoint and a token minter.
 *
 * @example
 * const issuer = await createTestIssuer();
 * const { jwksUrl, audience } = issuer;
 * const verifier = createTokenVerifier({ jwksUrl, issuer: issuer.issuer, audience });
 */
export interface TestIssuer {
  /** The `iss` of minted tokens. */
  issuer: string;
  /** `http://127.0.0.1:<port>/jwks.json`. */
  jwksUrl: string;
  /** The default `aud` of minted tokens (`tessera-api`). */
  audience: string;
  /**
   * Signs an access token (`typ: at+jwt`) with defaults for every RFC 9068 claim (`sub`,
   * `client_id`, `jti`, `iat`, `nbf`, `exp`, empty `scope`); `claims` override them and a claim
   * set to undefined is left out.
   */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** JWKS requests served so far. */
  fetchCount(): number;
  /** Adds a key to the served set (rotation tests) and returns its kid. */
  addKey(alg?: TestAlgorithm): Promise<string>;
  close(): Promise<void>;
}

/**
 * Options of {@link createTestIssuer}.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'orders-api', now: () => clock.now() });
 */
export interface TestIssuerOptions {
  /** The `iss` of minted tokens (default: the server's own origin). */
  issuer?: string;
  audience?: string;
  /** Clock for `iat`/`nbf`/`exp` in milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Starts a test issuer on 127.0.0.1 (port 0), so services' tests can mint tokens without the auth
 * service.
 *
 * @example
 * const issuer = await createTestIssuer();
 * const token = await issuer.mint({ sub: userId, permissions: ['users:read'] });
 * await request(app.server).get('/v1/users').set('authorization', `Bearer ${token}`);
 * afterAll(() => issuer.close());
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const now = options.now ?? Date.now;
  const keys = new Map<string, { alg: TestAlgorithm; privateKey: CryptoKey; jwk: JWK }>();
  const defaultKid = new Map<TestAlgorithm, string>();
  let fetches = 0;

  const addKey = async (alg: TestAlgorithm = 'ES256') => {
    const kid = randomUUID();
    const { privateKey, publicKey } = await generateKeyPair(alg);
    keys.set(kid, { alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
    if (!defaultKid.has(alg)) defaultKid.set(alg, kid);
    return kid;
  };
  await addKey('ES256');
  await addKey('EdDSA');

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.issuer ?? origin;
  const audience = options.audience ?? 'tessera-api';

  return {
    issuer,
    jwksUrl: `${origin}/jwks.json`,
    audience,
    fetchCount: () => fetches,
    addKey,
    async mint(claims = {}, mintOptions = {}) {
      const kid = mintOptions.kid ?? defaultKid.get(mintOptions.alg ?? 'ES256');
      const key = kid === undefined ? undefined : keys.get(kid);
      if (!key) throw new Error(`createTestIssuer: no key ${String(kid)}`);
      const iat = Math.floor(now() / 1000);
      return new SignJWT({
        iss: issuer,
        sub: randomUUID(),
        aud: audience,
        client_id: 'test-client',
        scope: '',
        jti: randomUUID(),
        iat,
        nbf: iat,
        exp: iat + (mintOptions.expiresIn ?? 300),
        ...claims,
      })
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid, ...mintOptions.header })
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
