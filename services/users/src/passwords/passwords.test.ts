import { describe, expect, it } from 'vitest';
import { AppError } from '@tessera/kernel';
import { hash } from '@node-rs/argon2';
import {
  assertPasswordPolicy,
  hashPassword,
  normalizePassword,
  PASSWORD_MAX,
  PASSWORD_MIN,
  verifyPassword,
} from './passwords.ts';

/** A non-dictionary password of exactly `n` characters (`unit` repeated, then cut to length). */
const ofLength = (n: number, unit = 'q7#Lm2@x') =>
  [...unit.repeat(Math.ceil(n / [...unit].length))].slice(0, n).join('');

/** The error code a policy check throws, or undefined when it passes. */
function refusal(password: string): string | undefined {
  try {
    assertPasswordPolicy(password);
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

describe('password hashing', () => {
  it('hashes with argon2id at the OWASP parameters (19 MiB, 2 iterations, 1 lane) and verifies', async () => {
    const password = 'correct horse battery staple';
    const hashed = await hashPassword(password);
    expect(hashed.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true);
    // A random salt: the same password never hashes to the same string twice.
    expect(await hashPassword(password)).not.toBe(hashed);
    expect(await verifyPassword(hashed, password)).toBe(true);
    expect(await verifyPassword(hashed, `${password}!`)).toBe(false);
    expect(await verifyPassword(null, password)).toBe(false);
  });
});

describe('Unicode forms (NIST SP 800-63B §5.1.1.2: NFKC)', () => {
  const composed = 'Caf\u00e9 au lait, s\u2019il vous pla\u00eet';
  const decomposed = composed.normalize('NFD');

  it('accepts a password in another Unicode form than the one it was set in', async () => {
    expect(decomposed).not.toBe(composed);
    const stored = await hashPassword(decomposed);
    expect(await verifyPassword(stored, composed)).toBe(true);
    expect(await verifyPassword(stored, decomposed)).toBe(true);
    expect(await verifyPassword(await hashPassword(composed), decomposed)).toBe(true);
    // Full-width letters (an East Asian input method) are the same password.
    const fullWidth = '\uff34\uff45\uff53\uff53\uff45\uff52\uff41 \uff17\uff11';
    expect(normalizePassword(fullWidth)).toBe('Tessera 71');
    expect(await verifyPassword(await hashPassword('Tessera 71'), fullWidth)).toBe(true);
    expect(await verifyPassword(stored, 'Cafe au lait, s\u2019il vous plait')).toBe(false);
  });

  it('still accepts a password whose hash was made before normalization, as it was typed', async () => {
    const legacy = await hash(decomposed, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    expect(await verifyPassword(legacy, decomposed)).toBe(true);
    expect(await verifyPassword(legacy, 'something else entirely')).toBe(false);
  });

  it('applies the policy to the normalized form', () => {
    // U+FB03 (the ffi ligature) is one character that NFKC turns into three: 6 of them make 18.
    expect(() => assertPasswordPolicy('\ufb03'.repeat(6))).not.toThrow();
    expect([...'\ufb03'.repeat(6)]).toHaveLength(6);
    // A common password in full-width letters is still that common password.
    expect(() => assertPasswordPolicy('\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44')).toThrow(AppError);
  });
});

describe('password policy (8–128 characters, counted as characters, not bytes or UTF-16 units)', () => {
  it('has the documented bounds', () => {
    expect([PASSWORD_MIN, PASSWORD_MAX]).toEqual([8, 128]);
  });

  it('accepts 8 and 128 characters and refuses 7 and 129', () => {
    expect(ofLength(7)).toHaveLength(7);
    expect(ofLength(129)).toHaveLength(129);
    expect(refusal(ofLength(8))).toBeUndefined();
    expect(refusal(ofLength(128))).toBeUndefined();
    expect(refusal(ofLength(7))).toBe('invalid_password');
    expect(refusal(ofLength(129))).toBe('invalid_password');
    expect(refusal('')).toBe('invalid_password');
  });

  it('counts an emoji as one character: 128 are accepted (512 bytes), 129 refused, 7 refused (14 UTF-16 units)', async () => {
    const emoji = '🔐';
    const max = emoji.repeat(128);
    expect(Buffer.byteLength(max)).toBe(512);
    expect(max.length).toBe(256);
    expect(refusal(max)).toBeUndefined();
    expect(refusal(emoji.repeat(129))).toBe('invalid_password');
    expect(refusal(emoji.repeat(8))).toBeUndefined();
    expect(refusal(emoji.repeat(7))).toBe('invalid_password');
    // Mixed scripts: 127 ASCII characters and one emoji is 128 characters (129 UTF-16 units).
    expect(refusal(`${ofLength(127)}${emoji}`)).toBeUndefined();
    expect(refusal(`${ofLength(128)}${emoji}`)).toBe('invalid_password');
    // hashPassword applies the same policy.
    const hashed = await hashPassword(max);
    expect(await verifyPassword(hashed, max)).toBe(true);
    await expect(hashPassword(emoji.repeat(129))).rejects.toMatchObject({
      code: 'invalid_password',
      status: 400,
    });
    await expect(hashPassword(ofLength(7))).rejects.toMatchObject({ code: 'invalid_password', status: 400 });
  });

  it('refuses a common password whatever its case', () => {
    expect(refusal('password')).toBe('weak_password');
    expect(refusal('PassWord')).toBe('weak_password');
  });
});
