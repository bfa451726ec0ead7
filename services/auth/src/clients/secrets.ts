/**
 * Client secrets: 256 random bits shown once; stored as SHA-256; compared in constant time.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

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
  return hash('sha256', secret, 'base64url');
}

/**
 * True when `presented` hashes to `storedHash`; the comparison of the two digests is constant-time.
 *
 * @example
 * if (!verifyClientSecret(body.client_secret, row.secretHash)) throw OAuthError.invalidClient(...);
 */
export function verifyClientSecret(presented: string, storedHash: string): boolean {
  // The two base64url digests are compared as text: same digest, same text (no padding, one
  // alphabet). The one-shot `hash` costs a quarter of createHash().update().digest() on this path,
  // which every client_secret_basic/post request takes.
  const actual = Buffer.from(hash('sha256', presented, 'base64url'), 'latin1');
  const expected = Buffer.from(storedHash, 'latin1');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
