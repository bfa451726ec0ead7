import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createSecretKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier, type TokenVerifierOptions } from './verifier.ts';
import { TokenError } from './errors.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

function verifierFor(options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  return err as TokenError;
}

describe('createTokenVerifier', () => {
  it('accepts a valid at+jwt token and exposes its claims and scopes', async () => {
    const token = await issuer.mint({
      sub: 'u1',
      scope: 'openid users:read',
      permissions: ['users:read'],
      org_id: 'o1',
    });
    const claims = await verifierFor().verify(token);
    expect(claims).toMatchObject({
      sub: 'u1',
      scopes: ['openid', 'users:read'],
      permissions: ['users:read'],
      org_id: 'o1',
    });
  });

  it('rejects an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.mint({ iat: now - 600, nbf: now - 600, exp: now - 120 });
    expect((await rejection(verifierFor().verify(token))).message).toBe('the token has expired');
  });

  it('accepts clock skew within the tolerance and rejects nbf beyond it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const skewed = await issuer.mint({ exp: now - 10 });
    await expect(verifierFor({ clockToleranceSec: 30 }).verify(skewed)).resolves.toBeDefined();
    const future = await issuer.mint({ nbf: now + 120, exp: now + 600 });
    expect((await rejection(verifierFor().verify(future))).code).toBe('invalid_token');
  });

  it('refuses a clock tolerance above 60 seconds, none and HS* algorithms at build time', () => {
    expect(() => verifierFor({ clockToleranceSec: 61 })).toThrow(TypeError);
    expect(() => verifierFor({ algorithms: ['none' as 'ES256'] })).toThrow(TypeError);
    expect(() => verifierFor({ algorithms: ['HS256' as 'ES256'] })).toThrow(TypeError);
  });

  it('rejects a wrong issuer and a wrong audience', async () => {
    expect(
      (await rejection(verifierFor().verify(await issuer.mint({ iss: 'https://evil.example' })))).message,
    ).toContain('iss');
    expect(
      (await rejection(verifierFor().verify(await issuer.mint({ aud: 'other-api' })))).message,
    ).toContain('aud');
  });

  it('rejects tokens whose typ is missing, JWT, or an ID token', async () => {
    const verifier = verifierFor();
    for (const typ of [undefined, 'JWT', 'id_token+jwt']) {
      const token = await issuer.mint({}, { header: { typ } });
      expect((await rejection(verifier.verify(token))).code).toBe('invalid_token');
    }
    await expect(
      verifier.verify(await issuer.mint({}, { header: { typ: 'application/at+jwt' } })),
    ).resolves.toBeDefined();
  });

  it('rejects tokens missing a required RFC 9068 claim', async () => {
    for (const claim of ['client_id', 'jti', 'sub']) {
      const token = await issuer.mint({ [claim]: undefined });
      expect((await rejection(verifierFor().verify(token))).code).toBe('invalid_token');
    }
  });

  it('rejects alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsecured = new UnsecuredJWT({
      iss: issuer.issuer,
      aud: 'tessera-api',
      sub: 'x',
      exp: now + 60,
      iat: now,
      jti: 'j',
      client_id: 'c',
    })
      .setIssuer(issuer.issuer)
      .encode();
    expect((await rejection(verifierFor().verify(unsecured))).code).toBe('invalid_token');
  });

  it('rejects an HS256 token signed with the public key bytes (algorithm confusion)', async () => {
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: object[] };
    const secret = createSecretKey(Buffer.from(JSON.stringify(jwks.keys[0])));
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      iss: issuer.issuer,
      aud: 'tessera-api',
      sub: 'x',
      exp: now + 60,
      iat: now,
      jti: 'j',
      client_id: 'c',
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(secret);
    expect((await rejection(verifierFor().verify(forged))).message).toBe(
      'the token algorithm is not allowed',
    );
  });

  it('ignores jku and embedded jwk headers and only trusts the issuer JWKS', async () => {
    const attacker = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      iss: issuer.issuer,
      aud: 'tessera-api',
      sub: 'x',
      exp: now + 60,
      iat: now,
      jti: 'j',
      client_id: 'c',
    })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'at+jwt',
        jwk: await exportJWK(attacker.publicKey),
        jku: 'http://127.0.0.1:1/jwks.json',
      })
      .sign(attacker.privateKey);
    expect((await rejection(verifierFor().verify(forged))).code).toBe('invalid_token');
  });

  it('refetches the JWKS on an unknown kid at most once per cooldown', async () => {
    const local = await createTestIssuer();
    try {
      // A 1 s cooldown stands in for the 30 s default so the test stays fast.
      const verifier = createTokenVerifier({
        jwksUrl: local.jwksUrl,
        issuer: local.issuer,
        audience: 'tessera-api',
        jwksCooldownSec: 1,
      });
      await verifier.verify(await local.mint());
      expect(local.fetchCount()).toBe(1);
      const unknown = () => local.mint({}, { header: { kid: `unknown-${Math.random()}` } });
      for (let i = 0; i < 5; i++) await rejection(verifier.verify(await unknown()));
      expect(local.fetchCount()).toBe(1);
      const newKid = await local.addKey();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await verifier.verify(await local.mint({}, { kid: newKid }));
      expect(local.fetchCount()).toBe(2);
      for (let i = 0; i < 5; i++) await rejection(verifier.verify(await unknown()));
      expect(local.fetchCount()).toBe(2);
    } finally {
      await local.close();
    }
  });

  it('rejects a token over 8 KB before fetching any key', async () => {
    const local = await createTestIssuer();
    try {
      const verifier = createTokenVerifier({
        jwksUrl: local.jwksUrl,
        issuer: local.issuer,
        audience: 'tessera-api',
      });
      const huge = await local.mint({ padding: 'x'.repeat(9000) });
      expect((await rejection(verifier.verify(huge))).message).toBe('the token is too large');
      expect(local.fetchCount()).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('answers hostile kids and garbage with invalid_token, never a crash', async () => {
    const verifier = verifierFor();
    for (const kid of ['../../etc/passwd', "' OR 1=1 --", 'k'.repeat(3000)]) {
      const token = await issuer.mint({}, { header: { kid } });
      expect((await rejection(verifier.verify(token))).code).toBe('invalid_token');
    }
    for (const garbage of ['', 'a.b', 'a.b.c.d', '!!!.???.***', 'eyJhbGciOiJFUzI1NiJ9.e30.sig']) {
      expect((await rejection(verifier.verify(garbage))).code).toBe('invalid_token');
    }
  });

  it('remembers verified tokens by hash until exp and then rejects them', async () => {
    let now = Date.now();
    let resolves = 0;
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: JWK[] };
    const { createLocalJWKSet } = await import('jose');
    const local = createLocalJWKSet(jwks);
    const verifier = createTokenVerifier({
      keys: (header, token) => {
        resolves++;
        return local(header, token);
      },
      issuer: issuer.issuer,
      audience: 'tessera-api',
      clockToleranceSec: 0,
      now: () => now,
    });
    const exp = Math.floor(now / 1000) + 60;
    const token = await issuer.mint({ exp });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(resolves).toBe(1);
    now = exp * 1000 + 1;
    expect((await rejection(verifier.verify(token))).message).toBe('the token has expired');
    expect(createHash('sha256').update(token).digest('base64url')).not.toContain(token);
  });

  it('runs the revocation hook on every verification, cached or not', async () => {
    const revoked = new Set<string>();
    const verifier = verifierFor({ isRevoked: async (jti) => revoked.has(jti) });
    const token = await issuer.mint({ jti: 'jti-1' });
    await verifier.verify(token);
    revoked.add('jti-1');
    expect((await rejection(verifier.verify(token))).message).toBe('the token has been revoked');
  });

  it('reports an unreachable JWKS as temporarily unavailable, not as an invalid token', async () => {
    const verifier = createTokenVerifier({
      jwksUrl: 'http://127.0.0.1:1/jwks.json',
      issuer: issuer.issuer,
      audience: 'tessera-api',
    });
    const err = await rejection(verifier.verify(await issuer.mint()));
    expect(err.code).toBe('temporarily_unavailable');
    expect(err.status).toBe(503);
  });
});
