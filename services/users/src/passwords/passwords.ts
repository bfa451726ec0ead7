import { randomBytes } from 'node:crypto';
import { BadRequestError } from '@tessera/kernel';
import { argon2Threads } from './argon2-threads.ts';
import { COMMON_PASSWORDS } from './common-passwords.ts';

/** argon2's `Algorithm.Argon2id` (a const enum, which type stripping cannot inline). */
const ARGON2ID = 2;

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * The form a password is checked, hashed and verified in: Unicode NFKC, as NIST SP 800-63B
 * §5.1.1.2 advises, so the same password still matches when it arrives in another Unicode form
 * (`é` as one code point or as `e` plus a combining accent, depending on the keyboard or where it
 * was pasted from; full-width letters from an East Asian input method). ASCII is unchanged.
 *
 * @example
 * normalizePassword('cafe\u0301') === normalizePassword('caf\u00e9'); // true
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * Hashes a password with argon2id after checking the policy (8–128 characters, not a common
 * password), both on its normalized form ({@link normalizePassword}).
 *
 * @example
 * const passwordHash = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(password: string): Promise<string> {
  const normalized = normalizePassword(password);
  assertPasswordPolicy(normalized);
  return argon2Threads().hash(normalized, ARGON2_OPTIONS);
}

/**
 * Rejects passwords outside 8–128 characters or on the common-password list (SECURITY 36).
 *
 * @example
 * assertPasswordPolicy('password'); // throws BadRequestError('weak_password', ...)
 */
export function assertPasswordPolicy(input: string): void {
  const password = normalizePassword(input);
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new BadRequestError(
      'invalid_password',
      `passwords have ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`,
    );
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    throw new BadRequestError('weak_password', 'this password is too common; choose another');
  }
}

let dummyHash: Promise<string> | undefined;

/** The hash an unknown email's password is checked against, computed once. */
function dummyPasswordHash(): Promise<string> {
  // A failed computation is not kept: the next login tries again.
  return (dummyHash ??= argon2Threads()
    .hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS)
    .catch((err: unknown) => {
      dummyHash = undefined;
      throw err;
    }));
}

/**
 * Computes the dummy hash ahead of the first unknown-email login, so that one is not slower.
 *
 * @example
 * await warmPasswordVerifier();
 */
export async function warmPasswordVerifier(): Promise<void> {
  await dummyPasswordHash();
}

/**
 * Verifies `password` against `passwordHash`; with no hash (unknown email, no password set) it
 * verifies against a dummy hash so the answer takes the same time either way (SECURITY 22).
 *
 * @example
 * const ok = await verifyPassword(user?.passwordHash ?? null, password);
 */
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  const normalized = normalizePassword(password);
  // A hash made before passwords were normalized holds the password in the form it was typed:
  // such a password is also tried as given. The dummy path tries as many times, so an unknown
  // email still takes as long as a known one (SECURITY 22).
  const asTyped = normalized === password ? undefined : password;
  if (!passwordHash) {
    const dummy = await dummyPasswordHash();
    await matches(dummy, normalized);
    if (asTyped !== undefined) await matches(dummy, asTyped);
    return false;
  }
  if (await matches(passwordHash, normalized)) return true;
  return asTyped !== undefined && matches(passwordHash, asTyped);
}

/** argon2 verification that answers false for a malformed hash instead of throwing. */
async function matches(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await argon2Threads().verify(passwordHash, password);
  } catch {
    return false;
  }
}
