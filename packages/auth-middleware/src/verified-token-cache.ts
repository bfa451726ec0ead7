/**
 * Already-verified tokens, so a client reusing its token costs a hash instead of a signature
 * check. Keyed by SHA-256 of the token, never the token itself (a heap dump must not yield
 * bearer credentials); each entry lives until the token's `exp`; the LRU bounds the count.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from './claims.ts';

/**
 * The cache as the verifier uses it; {@link createVerifiedTokenCache} builds it.
 *
 * @example
 * const claims = cache.get(token) ?? (await verifySignedToken(token));
 */
export interface VerifiedTokenCache {
  get(token: string): AccessTokenClaims | undefined;
  set(token: string, claims: AccessTokenClaims): void;
}

/**
 * An LRU of at most `max` entries whose expiry follows `now` (the verifier's clock).
 *
 * @example
 * const cache = createVerifiedTokenCache(10_000, Date.now);
 * cache.set(token, claims); // kept until claims.exp
 */
export function createVerifiedTokenCache(max: number, now: () => number): VerifiedTokenCache {
  const lru = new LRUCache<string, AccessTokenClaims>({
    max,
    // Expiry follows the verifier's clock exactly (lru-cache would otherwise reuse a reading for 1 ms).
    perf: { now },
    ttlResolution: 0,
  });
  // One-shot hash: no Hash object per request (about 40% cheaper than createHash for a token).
  const keyOf = (token: string) => hash('sha256', token, 'base64url');
  return {
    get: (token) => lru.get(keyOf(token)),
    set(token, claims) {
      // lru-cache treats an entry as stale once its age exceeds ttl: gone from exp on, exactly.
      const ttl = claims.exp * 1000 - now() - 1;
      if (ttl > 0) lru.set(keyOf(token), claims, { ttl });
    },
  };
}
