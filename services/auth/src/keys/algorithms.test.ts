import { describe, expect, it } from 'vitest';
import { generateSigningKey, importPrivateKey } from './algorithms.ts';

describe('importPrivateKey', () => {
  it('loads each algorithm’s PKCS#8 key and refuses a key of another type', async () => {
    const es256 = await generateSigningKey('ES256');
    const eddsa = await generateSigningKey('EdDSA');
    const rs256 = await generateSigningKey('RS256');
    expect(importPrivateKey('ES256', es256.pkcs8).asymmetricKeyType).toBe('ec');
    expect(importPrivateKey('EdDSA', eddsa.pkcs8).asymmetricKeyType).toBe('ed25519');
    expect(importPrivateKey('RS256', rs256.pkcs8).asymmetricKeyType).toBe('rsa');
    expect(() => importPrivateKey('ES256', eddsa.pkcs8)).toThrow(/not a ES256 key/);
    expect(() => importPrivateKey('EdDSA', rs256.pkcs8)).toThrow(/not a EdDSA key/);
    expect(() => importPrivateKey('RS256', es256.pkcs8)).toThrow(/not a RS256 key/);
    expect(() => importPrivateKey('ES256', Buffer.from('not a key'))).toThrow();
  });
});
