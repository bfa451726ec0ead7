/**
 * Client secrets: 256 random bits shown once; stored as SHA-256; compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/**
 * True when `presented` hashes to `storedHash`; the comparison of the two digests is constant-time.
 *
 * @example
 * if (!verifyClientSecret(body.client_secret, row.secretHash)) throw OAuthError.invalidClient(...);
 */
export function verifyClientSecret(presented: string, storedHash: string): boolean {
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  const expected = Buffer.from(storedHash, 'base64url');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
