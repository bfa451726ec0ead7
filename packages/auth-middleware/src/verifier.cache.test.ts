import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifierOptions } from './options.ts';
import type { AccessTokenClaims } from './claims.ts';

let issuer: TestIssuer;
let localKeys: JWTVerifyGetKey;
beforeAll(async () => {
  issuer = await createTestIssuer();
  localKeys = createLocalJWKSet((await (await fetch(issuer.jwksUrl)).json()) as JSONWebKeySet);
});
afterAll(() => issuer.close());

/** A verifier on an injected clock whose key lookups (one per signature check) are counted. */
function countingVerifier(options: Partial<TokenVerifierOptions> = {}) {
  const clock = { ms: Date.now() };
  const lookups = { count: 0 };
  const verifier = createTokenVerifier({
    keys: (header, token) => {
      lookups.count++;
      return localKeys(header, token);
    },
    issuer: issuer.issuer,
    audience: 'tessera-api',
    now: () => clock.ms,
    ...options,
  });
  return { verifier, lookups, clock };
}

describe('the verified-token cache', () => {
  it('answers a repeated token without verifying its signature again', async () => {
    const { verifier, lookups } = countingVerifier();
    const token = await issuer.mint({ sub: 'cached' });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(lookups.count).toBe(1);
    expect(second).toBe(first);
  });

  it('drops an entry at the token exp and verifies the token afresh after it', async () => {
    const { verifier, lookups, clock } = countingVerifier();
    const exp = Math.floor(clock.ms / 1000) + 60;
    const token = await issuer.mint({ exp });
    await verifier.verify(token);
    clock.ms = exp * 1000 - 1;
    await verifier.verify(token);
    expect(lookups.count).toBe(1);
    // At exp the entry is gone; the token is still inside the 30 s skew, so it verifies again.
    clock.ms = exp * 1000;
    await verifier.verify(token);
    expect(lookups.count).toBe(2);
    clock.ms = (exp + 31) * 1000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ message: 'the token has expired' });
  });

  it('never caches a rejected token', async () => {
    const { verifier, lookups } = countingVerifier();
    const token = await issuer.mint({ aud: 'other-api' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(lookups.count).toBe(2);
  });

  it('keeps at most cache.max tokens, evicting the least recently used', async () => {
    const { verifier, lookups } = countingVerifier({ cache: { max: 2 } });
    const [a, b, c] = await Promise.all([issuer.mint(), issuer.mint(), issuer.mint()]);
    for (const token of [a, b, c]) await verifier.verify(token);
    await verifier.verify(c);
    await verifier.verify(b);
    expect(lookups.count).toBe(3);
    await verifier.verify(a);
    expect(lookups.count).toBe(4);
  });

  it('can be turned off with cache.max 0', async () => {
    const { verifier, lookups } = countingVerifier({ cache: { max: 0 } });
    const token = await issuer.mint();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(lookups.count).toBe(2);
  });
});

describe('the revocation hook', () => {
  it('receives the jti and claims and denies a revoked token', async () => {
    const seen: [string, AccessTokenClaims][] = [];
    const { verifier } = countingVerifier({
      isRevoked: async (jti, claims) => {
        seen.push([jti, claims]);
        return jti === 'revoked-jti';
      },
    });
    await expect(verifier.verify(await issuer.mint({ jti: 'revoked-jti' }))).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
      message: 'the token has been revoked',
    });
    expect(seen[0]?.[0]).toBe('revoked-jti');
    expect(seen[0]?.[1].sub).toEqual(expect.any(String));
  });

  it('runs on cache hits too, so a token revoked after its first use stops working at once', async () => {
    const denylist = new Set<string>();
    const { verifier, lookups } = countingVerifier({ isRevoked: async (jti) => denylist.has(jti) });
    const token = await issuer.mint({ jti: 'jti-1' });
    await verifier.verify(token);
    await verifier.verify(token);
    denylist.add('jti-1');
    await expect(verifier.verify(token)).rejects.toMatchObject({ message: 'the token has been revoked' });
    expect(lookups.count).toBe(1);
  });

  it('fails closed with 503 when the hook itself fails', async () => {
    const { verifier } = countingVerifier({
      isRevoked: async () => {
        throw new Error('redis down');
      },
    });
    await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject({
      code: 'temporarily_unavailable',
      status: 503,
      message: 'the revocation check is unavailable',
    });
  });
});
