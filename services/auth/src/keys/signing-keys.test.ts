import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { Clock } from '@tessera/kernel';
import { createTestAuthDatabase, type TestAuthDatabase } from '../testing.ts';
import { JwtTokenSigner } from '../tokens/signer.ts';
import { KeyStore } from './key-store.ts';
import { ID_TOKEN_RS256_SET, idTokenAlgorithmsFor, SigningKeys } from './signing-keys.ts';
import { signingKeys } from './table.ts';

class TestClock implements Clock {
  #now = Date.UTC(2030, 0, 1);
  now(): number {
    return this.#now;
  }
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

let database: TestAuthDatabase;
beforeAll(async () => {
  database = await createTestAuthDatabase();
});
afterAll(async () => database?.drop());

async function fresh(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256') {
  await database.db.delete(signingKeys);
  const clock = new TestClock();
  const masterKey = randomBytes(32);
  const options = {
    db: database.db,
    masterKey,
    clock,
    alg,
    propagationSeconds: 900,
    retentionSeconds: 3660,
    refreshIntervalMs: 1_000,
  };
  const keys = SigningKeys.create(options);
  await keys.init();
  const signer = new JwtTokenSigner({
    keys: keys.primary,
    idTokenKeys: (requested) => keys.idTokenStore(requested),
    issuer: 'https://id.example.com',
    clock,
  });
  return { keys, clock, masterKey, signer, options };
}

const idToken = (signer: JwtTokenSigner, alg?: 'ES256' | 'EdDSA' | 'RS256') =>
  signer.signIdToken({
    sub: 'user-1',
    clientId: 'spa',
    authTime: 1_900_000_000,
    ttlSeconds: 300,
    accessToken: 'the-access-token',
    ...(alg ? { alg } : {}),
  });

describe('SigningKeys: RS256 ID tokens beside the primary algorithm (OIDC Core §15.1)', () => {
  it('offers RS256 for ID tokens whatever the primary algorithm', () => {
    expect(idTokenAlgorithmsFor('ES256')).toEqual(['ES256', 'RS256']);
    expect(idTokenAlgorithmsFor('EdDSA')).toEqual(['EdDSA', 'RS256']);
    expect(idTokenAlgorithmsFor('RS256')).toEqual(['RS256']);
  });

  it('keeps an RS256 set of its own, published in the same JWKS, without touching the primary timeline', async () => {
    const { keys } = await fresh('ES256');
    const listed = await keys.list();
    expect(listed.map((key) => [key.keySet, key.alg, key.state])).toEqual([
      ['primary', 'ES256', 'current'],
      [ID_TOKEN_RS256_SET, 'RS256', 'current'],
    ]);
    const jwks = await keys.publicJwks();
    expect(jwks.keys.map((key) => key.alg).sort()).toEqual(['ES256', 'RS256']);
    // The primary store signs access tokens with ES256 only; it never sees the RS256 set.
    expect((await keys.primary.signingKey()).alg).toBe('ES256');
    expect((await keys.primary.publicJwks()).keys.map((key) => key.alg)).toEqual(['ES256']);
  });

  it('signs an ID token with RS256 when the client asks for it, with at_hash from SHA-256, verifiable from the JWKS', async () => {
    const { keys, signer } = await fresh('EdDSA');
    const jwks = createLocalJWKSet(await keys.publicJwks());
    const rs = await idToken(signer, 'RS256');
    expect(decodeProtectedHeader(rs)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await compactVerify(rs, jwks);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { at_hash: string };
    const sha256 = createHash('sha256').update('the-access-token').digest();
    expect(claims.at_hash).toBe(sha256.subarray(0, 16).toString('base64url'));
    // Without a preference: the primary algorithm, with its own at_hash hash (SHA-512 for EdDSA).
    const ed = await idToken(signer);
    expect(decodeProtectedHeader(ed).alg).toBe('EdDSA');
    const edClaims = JSON.parse(new TextDecoder().decode((await compactVerify(ed, jwks)).payload)) as {
      at_hash: string;
    };
    const sha512 = createHash('sha512').update('the-access-token').digest();
    expect(edClaims.at_hash).toBe(sha512.subarray(0, 32).toString('base64url'));
  });

  it('has no second set when RS256 is the primary algorithm', async () => {
    const { keys, signer } = await fresh('RS256');
    expect((await keys.list()).map((key) => key.keySet)).toEqual(['primary']);
    expect(decodeProtectedHeader(await idToken(signer, 'RS256')).alg).toBe('RS256');
  });

  it('rotates both sets together, each publishing its next key first', async () => {
    const { keys } = await fresh('ES256');
    const result = await keys.rotate();
    expect(result.next.alg).toBe('ES256');
    expect(result.idToken?.next.alg).toBe('RS256');
    const jwks = (await keys.publicJwks()).keys.map((key) => key.kid);
    expect(jwks).toContain(result.next.kid);
    expect(jwks).toContain(result.idToken?.next.kid);
    const states = (await keys.list()).map((key) => `${key.keySet}:${key.state}`);
    expect(states.sort()).toEqual(
      [
        `primary:current`,
        `primary:next`,
        `${ID_TOKEN_RS256_SET}:current`,
        `${ID_TOKEN_RS256_SET}:next`,
      ].sort(),
    );
  });

  it('re-wraps the keys of every set under a new master key', async () => {
    const { options } = await fresh('ES256');
    const newMasterKey = randomBytes(32);
    expect(await new KeyStore(options).rewrapAll(newMasterKey)).toBe(2);
    const reopened = SigningKeys.create({ ...options, masterKey: newMasterKey });
    await reopened.init();
    expect((await reopened.idTokenStore('RS256').signingKey()).alg).toBe('RS256');
    expect((await reopened.primary.signingKey()).alg).toBe('ES256');
  });
});
