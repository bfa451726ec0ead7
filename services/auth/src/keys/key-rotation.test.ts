import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, importJWK } from 'jose';
import type { Clock } from '@tessera/kernel';
import { createTestAuthDatabase, type TestAuthDatabase } from '../testing.ts';
import { JwtTokenSigner } from '../tokens/signer.ts';
import { KeyStore } from './key-store.ts';
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

const PROPAGATION = 900;
const RETENTION = 3660;

async function freshStore(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256') {
  await database.db.delete(signingKeys);
  const clock = new TestClock();
  const masterKey = randomBytes(32);
  const keys = new KeyStore({
    db: database.db,
    masterKey,
    clock,
    alg,
    propagationSeconds: PROPAGATION,
    retentionSeconds: RETENTION,
    refreshIntervalMs: 1_000,
  });
  await keys.init();
  const signer = new JwtTokenSigner({ keys, issuer: 'https://id.example.com', clock });
  return { keys, clock, masterKey, signer };
}

const sign = async (signer: JwtTokenSigner) =>
  (
    await signer.signAccessToken({
      sub: 'client:x',
      clientId: 'x',
      aud: 'tessera-api',
      scope: '',
      ttlSeconds: 600,
    })
  ).token;
const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;
const kids = async (keys: KeyStore) => (await keys.publicJwks()).keys.map((key) => key.kid);

describe('signing key lifecycle', () => {
  it('creates one signing key on first start and publishes only its public part', async () => {
    const { keys, signer } = await freshStore();
    const jwks = await keys.publicJwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: expect.any(String),
      alg: 'ES256',
      use: 'sig',
    });
    const token = await sign(signer);
    const verified = await compactVerify(token, await importJWK(jwks.keys[0]!, 'ES256'));
    expect(verified.protectedHeader).toEqual({ alg: 'ES256', kid: jwks.keys[0]!.kid, typ: 'at+jwt' });
    expect(await database.db.select().from(signingKeys)).toHaveLength(1);
  });

  it('keeps the private key at rest encrypted, never as plaintext', async () => {
    const { keys } = await freshStore();
    const [row] = await database.db.select().from(signingKeys);
    expect(row!.privateKeySealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(row!.privateKeySealed).not.toContain('BEGIN');
    expect(JSON.stringify(row)).not.toMatch(/"d"\s*:/);
    expect((await keys.list())[0]).not.toHaveProperty('privateKeySealed');
  });

  it('refuses to load keys under another master key', async () => {
    const { clock } = await freshStore();
    const wrongKey = new KeyStore({
      db: database.db,
      masterKey: randomBytes(32),
      clock,
      alg: 'ES256',
      propagationSeconds: PROPAGATION,
      retentionSeconds: RETENTION,
    });
    await expect(wrongKey.init()).rejects.toThrow();
  });

  it('publishes the next key in JWKS before it signs', async () => {
    const { keys, signer, clock } = await freshStore();
    const [first] = await kids(keys);
    const { next, current } = await keys.rotate();
    expect(current.kid).toBe(first);
    expect(next.state).toBe('next');
    expect(await kids(keys)).toEqual([first, next.kid]);
    expect(kidOf(await sign(signer))).toBe(first);
    clock.advance(PROPAGATION - 1);
    expect(kidOf(await sign(signer))).toBe(first);
    clock.advance(2);
    expect(kidOf(await sign(signer))).toBe(next.kid);
  });

  it('keeps the retired key published until every token it signed has expired', async () => {
    const { keys, signer, clock } = await freshStore();
    const [first] = await kids(keys);
    const { next } = await keys.rotate();
    clock.advance(PROPAGATION + 1);
    expect(kidOf(await sign(signer))).toBe(next.kid);
    expect(await kids(keys)).toEqual([first, next.kid]);
    expect((await keys.list()).map((key) => key.state)).toEqual(['retired', 'current']);
    clock.advance(RETENTION - 2);
    expect(await kids(keys)).toEqual([first, next.kid]);
    clock.advance(2);
    expect(await kids(keys)).toEqual([next.kid]);
    expect((await keys.list()).map((key) => key.state)).toEqual(['expired', 'current']);
    expect(await keys.verificationKey(first!)).toBeUndefined();
  });

  it('starts signing with a pending next key at the following rotation', async () => {
    const { keys, signer } = await freshStore();
    const first = await keys.rotate();
    const second = await keys.rotate();
    expect(second.current.kid).toBe(first.next.kid);
    expect(kidOf(await sign(signer))).toBe(first.next.kid);
    expect((await keys.list()).map((key) => key.state)).toEqual(['retired', 'current', 'next']);
  });

  it('signs with EdDSA and RS256 when configured', async () => {
    for (const alg of ['EdDSA', 'RS256'] as const) {
      const { keys, signer } = await freshStore(alg);
      const jwk = (await keys.publicJwks()).keys[0]!;
      expect(jwk.alg).toBe(alg);
      const token = await sign(signer);
      const { protectedHeader } = await compactVerify(token, await importJWK(jwk, alg));
      expect(protectedHeader.alg).toBe(alg);
    }
  });

  it('adds a key of a newly configured algorithm as next instead of switching at once', async () => {
    const { clock, masterKey } = await freshStore('ES256');
    const switched = new KeyStore({
      db: database.db,
      masterKey,
      clock,
      alg: 'EdDSA',
      propagationSeconds: PROPAGATION,
      retentionSeconds: RETENTION,
    });
    await switched.init();
    expect((await switched.list()).map((key) => [key.alg, key.state])).toEqual([
      ['ES256', 'current'],
      ['EdDSA', 'next'],
    ]);
  });

  it('re-wraps every key under a new master key', async () => {
    const { keys, clock } = await freshStore();
    await keys.rotate();
    const newMaster = randomBytes(32);
    expect(await keys.rewrapAll(newMaster)).toBe(2);
    const reopened = new KeyStore({
      db: database.db,
      masterKey: newMaster,
      clock,
      alg: 'ES256',
      propagationSeconds: PROPAGATION,
      retentionSeconds: RETENTION,
    });
    await reopened.init();
    expect((await reopened.signingKey()).kid).toBe((await keys.signingKey()).kid);
  });
});
