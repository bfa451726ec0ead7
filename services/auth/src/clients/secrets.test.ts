import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './secrets.ts';

describe('client secrets', () => {
  it('are 256 random bits in base64url, different every time', () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateClientSecret()).not.toBe(secret);
  });

  it('are stored as their SHA-256 in base64url (FIPS 180-2 test vector "abc")', () => {
    expect(hashClientSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    // Hashes stored before the one-shot hash stay valid: the same digest as createHash's.
    const secret = generateClientSecret();
    expect(hashClientSecret(secret)).toBe(createHash('sha256').update(secret, 'utf8').digest('base64url'));
  });

  it('verify only the secret whose hash is stored', () => {
    const secret = generateClientSecret();
    const stored = hashClientSecret(secret);
    expect(verifyClientSecret(secret, stored)).toBe(true);
    expect(verifyClientSecret(`${secret}x`, stored)).toBe(false);
    expect(verifyClientSecret(secret.slice(1), stored)).toBe(false);
    expect(verifyClientSecret('', stored)).toBe(false);
  });

  it('hash non-ASCII secrets as UTF-8 and refuse a malformed stored hash', () => {
    const stored = hashClientSecret('pässwörd-🔑');
    expect(stored).toBe(createHash('sha256').update('pässwörd-🔑', 'utf8').digest('base64url'));
    expect(verifyClientSecret('pässwörd-🔑', stored)).toBe(true);
    expect(verifyClientSecret('passwörd-🔑', stored)).toBe(false);
    expect(verifyClientSecret('abc', 'short')).toBe(false);
    expect(verifyClientSecret('abc', `${hashClientSecret('abc')}=`)).toBe(false);
  });
});
