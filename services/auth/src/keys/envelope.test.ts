import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, rewrap, seal } from './envelope.ts';

describe('envelope encryption', () => {
  const master = randomBytes(32);
  const secret = Buffer.from('private key bytes');

  it('opens what it sealed and never contains the plaintext', () => {
    const sealed = seal(master, secret, 'signing-key:a');
    expect(sealed).not.toContain(secret.toString('base64url'));
    expect(open(master, sealed, 'signing-key:a')).toEqual(secret);
  });

  it('refuses a sealed value moved to another context', () => {
    const sealed = seal(master, secret, 'signing-key:a');
    expect(() => open(master, sealed, 'signing-key:b')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = seal(master, secret, 'ctx');
    const parts = sealed.split('.');
    const data = Buffer.from(parts[4]!, 'base64url');
    data[0] = (data[0] ?? 0) ^ 1;
    parts[4] = data.toString('base64url');
    expect(() => open(master, parts.join('.'), 'ctx')).toThrow();
  });

  it('re-wraps the data key under a new master key without touching the ciphertext', () => {
    const sealed = seal(master, secret, 'ctx');
    const next = randomBytes(32);
    const rewrapped = rewrap(master, next, sealed, 'ctx');
    expect(rewrapped.split('.')[4]).toBe(sealed.split('.')[4]);
    expect(open(next, rewrapped, 'ctx')).toEqual(secret);
    expect(() => open(master, rewrapped, 'ctx')).toThrow();
  });

  it('names the master key as the cause when another key sealed the value', () => {
    const sealed = seal(master, secret, 'signing-key:a');
    expect(() => open(randomBytes(32), sealed, 'signing-key:a')).toThrow(
      'signing-key:a was sealed under a different master key: set TESSERA_MASTER_KEY to the key this database was created with',
    );
  });
});
