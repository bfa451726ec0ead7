import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { BadRequestError } from '@tessera/kernel';
import { COMMON_PASSWORDS } from './common-passwords.ts';

/** argon2's `Algorithm.Argon2id` (a const enum, which type stripping cannot inline). */
const ARGON2ID = 2;

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * Hashes a password with argon2id after checking the policy (8–128 characters, not a common password).
 *
 * @example
 * const passwordHash = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(password: string): Promise<string> {
  assertPasswordPolicy(password);
  return hash(password, ARGON2_OPTIONS);
}

/**
 * Rejects passwords outside 8–128 characters or on the common-password list (SECURITY 36).
 *
 * @example
 * assertPasswordPolicy('password'); // throws BadRequestError('weak_password', ...)
 */
export function assertPasswordPolicy(password: string): void {
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

/**
 * Computes the dummy hash ahead of the first unknown-email login, so that one is not slower.
 *
 * @example
 * await warmPasswordVerifier();
 */
export async function warmPasswordVerifier(): Promise<void> {
  dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
  await dummyHash;
}

/**
 * Verifies `password` against `passwordHash`; with no hash (unknown email, no password set) it
 * verifies against a dummy hash so the answer takes the same time either way (SECURITY 22).
 *
 * @example
 * const ok = await verifyPassword(user?.passwordHash ?? null, password);
 */
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (!passwordHash) {
    dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
