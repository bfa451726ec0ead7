import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, createSecretKey } from 'node:crypto';
import { generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifierOptions } from './options.ts';
import { TokenError } from './errors.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

const seconds = () => Math.floor(Date.now() / 1000);

function verifierFor(options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
    ...options,
  });
}

function invalidToken(description: string) {
  return { name: 'TokenError', code: 'invalid_token', status: 401, message: description };
}

/** Claims of a well-formed access token, for tokens built without the test issuer. */
function accessTokenClaims() {
  const now = seconds();
  return {
    iss: issuer.issuer,
    aud: 'tessera-api',
    sub: 'u1',
    client_id: 'c1',
    jti: 'j1',
    iat: now,
    exp: now + 60,
  };
}

describe('a valid access token', () => {
  it('is accepted and its claims are returned with the scope split into scopes', async () => {
    const token = await issuer.mint({
      sub: 'u1',
      client_id: 'web',
      scope: 'openid users:read',
      org_id: 'o1',
      roles: ['admin'],
      permissions: ['users:read'],
    });
    const claims = await verifierFor().verify(token);
    expect(claims).toMatchObject({
      iss: issuer.issuer,
      aud: 'tessera-api',
      sub: 'u1',
      client_id: 'web',
      scope: 'openid users:read',
      scopes: ['openid', 'users:read'],
      org_id: 'o1',
      roles: ['admin'],
      permissions: ['users:read'],
    });
    expect(claims.jti).toEqual(expect.any(String));
  });

  it('is returned frozen, so one request cannot change what the next one sees', async () => {
    const claims = await verifierFor().verify(await issuer.mint({ scope: 'a', permissions: ['p'] }));
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.scopes)).toBe(true);
    expect(Object.isFrozen(claims.permissions)).toBe(true);
  });

  it('is accepted when signed with EdDSA', async () => {
    const claims = await verifierFor().verify(await issuer.mint({ sub: 'ed' }, { alg: 'EdDSA' }));
    expect(claims.sub).toBe('ed');
  });

  it('is accepted without a kid when exactly one issuer key fits its algorithm', async () => {
    const token = await issuer.mint({ sub: 'no-kid' }, { header: { kid: undefined } });
    expect((await verifierFor().verify(token)).sub).toBe('no-kid');
  });

  it('is accepted when its aud array contains one of the configured audiences', async () => {
    const token = await issuer.mint({ aud: ['other-api', 'tessera-api'] });
    await expect(
      verifierFor({ audience: ['billing-api', 'tessera-api'] }).verify(token),
    ).resolves.toBeDefined();
  });

  it('is accepted with typ application/at+jwt or AT+JWT (media types are case-insensitive)', async () => {
    const verifier = verifierFor();
    for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/AT+JWT']) {
      await expect(verifier.verify(await issuer.mint({}, { header: { typ } }))).resolves.toBeDefined();
    }
  });

  it('yields an empty scopes list when the token has no scope claim', async () => {
    const claims = await verifierFor().verify(await issuer.mint({ scope: undefined }));
    expect(claims.scope).toBe('');
    expect(claims.scopes).toEqual([]);
  });
});

describe('time claims', () => {
  it('rejects a token that expired beyond the clock tolerance', async () => {
    const now = seconds();
    const token = await issuer.mint({ iat: now - 600, nbf: now - 600, exp: now - 31 });
    await expect(verifierFor().verify(token)).rejects.toMatchObject(invalidToken('the token has expired'));
  });

  it('accepts a token expired 10 s ago within the default 30 s tolerance', async () => {
    const now = seconds();
    await expect(
      verifierFor().verify(await issuer.mint({ iat: now - 300, exp: now - 10 })),
    ).resolves.toBeDefined();
  });

  it('accepts a token expired 50 s ago with the maximum tolerance of 60 s', async () => {
    const now = seconds();
    const token = await issuer.mint({ iat: now - 300, exp: now - 50 });
    await expect(verifierFor({ clockToleranceSec: 60 }).verify(token)).resolves.toBeDefined();
    await expect(verifierFor().verify(token)).rejects.toMatchObject(invalidToken('the token has expired'));
  });

  it('rejects a token whose nbf is in the future beyond the tolerance', async () => {
    const now = seconds();
    const token = await issuer.mint({ nbf: now + 120, exp: now + 600 });
    await expect(verifierFor().verify(token)).rejects.toMatchObject(
      invalidToken('the token nbf claim is in the future'),
    );
  });

  it('accepts a token whose nbf is 20 s ahead, within the tolerance', async () => {
    const now = seconds();
    await expect(verifierFor().verify(await issuer.mint({ nbf: now + 20 }))).resolves.toBeDefined();
  });

  it('rejects a token issued in the future beyond the tolerance', async () => {
    const now = seconds();
    const token = await issuer.mint({ iat: now + 120, nbf: undefined, exp: now + 600 });
    await expect(verifierFor().verify(token)).rejects.toMatchObject(
      invalidToken('the token iat claim is in the future'),
    );
  });

  it('follows the injected clock rather than the machine clock', async () => {
    const now = seconds();
    const token = await issuer.mint({ iat: now, nbf: now, exp: now + 60 });
    const later = verifierFor({ now: () => (now + 3600) * 1000 });
    await expect(later.verify(token)).rejects.toMatchObject(invalidToken('the token has expired'));
  });
});

describe('issuer, audience and type', () => {
  it('rejects a token from another issuer', async () => {
    const token = await issuer.mint({ iss: 'https://evil.example' });
    await expect(verifierFor().verify(token)).rejects.toMatchObject(
      invalidToken('the token iss claim is invalid'),
    );
  });

  it('rejects a token for another audience', async () => {
    const token = await issuer.mint({ aud: 'other-api' });
    await expect(verifierFor().verify(token)).rejects.toMatchObject(
      invalidToken('the token aud claim is invalid'),
    );
  });

  it('rejects tokens whose typ is missing, JWT or id_token+jwt', async () => {
    const verifier = verifierFor();
    for (const typ of [undefined, 'JWT', 'jwt', 'id_token+jwt', 'at+jwt+x']) {
      await expect(verifier.verify(await issuer.mint({}, { header: { typ } }))).rejects.toMatchObject(
        invalidToken('the token is not an access token (typ)'),
      );
    }
  });

  it('rejects an ID token signed by the same issuer for the same audience', async () => {
    const idToken = await issuer.mint(
      { nonce: 'n', at_hash: 'x', auth_time: seconds(), client_id: undefined },
      { header: { typ: 'JWT' } },
    );
    await expect(verifierFor().verify(idToken)).rejects.toMatchObject(
      invalidToken('the token is not an access token (typ)'),
    );
  });
});

describe('required and malformed claims', () => {
  it('rejects a token missing any claim RFC 9068 requires', async () => {
    const verifier = verifierFor();
    for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
      await expect(verifier.verify(await issuer.mint({ [claim]: undefined }))).rejects.toMatchObject({
        code: 'invalid_token',
        message: expect.stringContaining(`${claim} claim`),
      });
    }
  });

  it('rejects claims of the wrong type instead of handing them to routes', async () => {
    const verifier = verifierFor();
    const cases: [Record<string, unknown>, string][] = [
      [{ sub: 42 }, 'the token sub claim is invalid'],
      [{ client_id: '' }, 'the token client_id claim is invalid'],
      [{ jti: ['a'] }, 'the token jti claim is invalid'],
      [{ scope: ['users:read'] }, 'the token scope claim is invalid'],
      [{ org_id: 7 }, 'the token org_id claim is invalid'],
      [{ roles: 'admin' }, 'the token roles claim is invalid'],
      [{ permissions: ['users:read', 1] }, 'the token permissions claim is invalid'],
    ];
    for (const [claims, description] of cases) {
      await expect(verifier.verify(await issuer.mint(claims))).rejects.toMatchObject(
        invalidToken(description),
      );
    }
  });
});

describe('algorithms', () => {
  it('rejects an unsecured token (alg none)', async () => {
    const unsecured = new UnsecuredJWT(accessTokenClaims()).encode();
    const withTyp = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${unsecured.split('.')[1]}.`;
    const verifier = verifierFor();
    // An unsecured JWS has an empty signature: not even the shape of a signed JWT.
    await expect(verifier.verify(unsecured)).rejects.toMatchObject(
      invalidToken('the token is not a signed JWT'),
    );
    await expect(verifier.verify(withTyp)).rejects.toMatchObject(
      invalidToken('the token is not a signed JWT'),
    );
    await expect(verifier.verify(`${withTyp}c2ln`)).rejects.toMatchObject(
      invalidToken('the token algorithm is not allowed'),
    );
  });

  it('rejects an HS256 token signed with the public key bytes (algorithm confusion)', async () => {
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: (JWK & { kid: string })[] };
    const published = jwks.keys[0]!;
    const pem = createPublicKey({ key: published, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const verifier = verifierFor();
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(published))]) {
      const forged = await new SignJWT(accessTokenClaims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: published.kid })
        .sign(createSecretKey(secret));
      await expect(verifier.verify(forged)).rejects.toMatchObject(
        invalidToken('the token algorithm is not allowed'),
      );
    }
  });

  it('rejects an algorithm left out of the configured allowlist', async () => {
    const token = await issuer.mint({}, { alg: 'EdDSA' });
    await expect(verifierFor({ algorithms: ['ES256'] }).verify(token)).rejects.toMatchObject(
      invalidToken('the token algorithm is not allowed'),
    );
  });

  it('rejects a token signed by a key the issuer never published', async () => {
    const stranger = await generateKeyPair('ES256');
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: (JWK & { kid: string })[] };
    const forged = await new SignJWT(accessTokenClaims())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwks.keys[0]!.kid })
      .sign(stranger.privateKey);
    await expect(verifierFor().verify(forged)).rejects.toMatchObject(
      invalidToken('the token signature is invalid'),
    );
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await issuer.mint({ scope: 'users:read' })).split('.');
    const payload = Buffer.from(JSON.stringify({ ...accessTokenClaims(), scope: 'admin' })).toString(
      'base64url',
    );
    await expect(verifierFor().verify(`${header}.${payload}.${signature}`)).rejects.toMatchObject(
      invalidToken('the token signature is invalid'),
    );
  });
});

describe('every failure', () => {
  it('is a TokenError whose description never contains the token', async () => {
    const token = await issuer.mint({ aud: 'other-api' });
    const err = await verifierFor()
      .verify(token)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenError);
    const text = JSON.stringify((err as TokenError).toProblem()) + (err as TokenError).wwwAuthenticate();
    for (const part of token.split('.')) expect(text).not.toContain(part);
  });
});
