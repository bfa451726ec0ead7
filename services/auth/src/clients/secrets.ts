/**
 * Client secrets: 256 random bits shown once; stored as SHA-256; compared in constant time.
 */
import { randomBytes } from 'node:crypto';
import { safeEqual, sha256 } from '../flows/crypto.ts';

/**
 * A new client secret (43 base64url characters).
 *
 * @example
 * const secret = generateClientSecret();
 */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The stored form of a secret.
 *
 * @example
 * await repo.setSecretHash(clientId, hashClientSecret(secret));
 */
export function hashClientSecret(secret: string): string {
  return sha256(secret);
}

/**
 * True when `presented` hashes to `storedHash`; the comparison of the two digests is constant-time.
 *
 * @example
 * if (!verifyClientSecret(body.client_secret, row.secretHash)) throw OAuthError.invalidClient(...);
 */
export function verifyClientSecret(presented: string, storedHash: string): boolean {
  // The two base64url digests are compared as text: same digest, same text (no padding, one
  // alphabet).
  return safeEqual(sha256(presented), storedHash);
}
