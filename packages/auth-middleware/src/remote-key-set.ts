/**
 * The issuer's JWKS (RFC 8725 §3.10: a `kid` only selects among the issuer's published keys).
 * Fetched on first use and kept for `maxAgeMs`. Attempts are spaced whether they succeed or not:
 * an unknown `kid` causes at most one refetch per `cooldownMs`, so whoever picks `kid`s cannot
 * make us hammer the issuer; when a refresh fails the old keys stay in use, and with no keys at all
 * the fetch is retried at most every 5 s. Concurrent callers share one fetch.
 *
 * Written here on top of jose's createLocalJWKSet rather than using createRemoteJWKSet, because
 * that one (1) reads `Date.now()` instead of the injected clock, (2) retries on every unknown `kid`
 * while the issuer is failing (its cooldown starts only after a successful fetch), and (3) reports
 * a non-200 answer as a generic error indistinguishable from a bad token.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

const NO_KEYS_RETRY_MS = 5000;

/**
 * The issuer's keys could not be fetched or parsed: answer 503, not 401.
 *
 * @example
 * throw new KeySetUnavailable('the JWKS endpoint answered 500');
 */
export class KeySetUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySetUnavailable';
  }
}

/**
 * Options of {@link createRemoteKeySet}.
 *
 * @example
 * const options: RemoteKeySetOptions = {
 *   url, cooldownMs: 30_000, maxAgeMs: 600_000, timeoutMs: 5000, now: Date.now,
 * };
 */
export interface RemoteKeySetOptions {
  url: URL;
  /** Minimum time between two fetch attempts triggered by an unknown `kid` or a failure. */
  cooldownMs: number;
  /** Age after which the key set is refreshed on next use (kept if the refresh fails). */
  maxAgeMs: number;
  timeoutMs: number;
  now: () => number;
}

/**
 * A jose key resolver over a remote JWKS (see the file comment for the fetch policy).
 *
 * @example
 * const keys = createRemoteKeySet({
 *   url: new URL(jwksUrl), cooldownMs: 30_000, maxAgeMs: 600_000, timeoutMs: 5000, now: Date.now,
 * });
 * await jwtVerify(token, keys, { algorithms: ['ES256'] });
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): JWTVerifyGetKey {
  const { url, cooldownMs, maxAgeMs, timeoutMs, now } = options;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let pending: Promise<void> | undefined;

  const download = async (): Promise<void> => {
    let body: unknown;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new KeySetUnavailable(`the JWKS endpoint answered ${response.status}`);
      }
      body = await response.json();
    } catch (err) {
      throw err instanceof KeySetUnavailable
        ? err
        : new KeySetUnavailable('the JWKS could not be fetched', { cause: err });
    }
    try {
      keys = createLocalJWKSet(body as JSONWebKeySet);
    } catch (err) {
      throw new KeySetUnavailable('the JWKS document is invalid', { cause: err });
    }
    fetchedAt = now();
  };

  /** One fetch at a time; callers arriving meanwhile share it. */
  const refresh = (): Promise<void> => {
    if (!pending) {
      attemptedAt = now();
      pending = download().finally(() => {
        pending = undefined;
      });
    }
    return pending;
  };
  const mayFetch = (interval: number) => pending !== undefined || now() - attemptedAt >= interval;

  const current = async (): Promise<ReturnType<typeof createLocalJWKSet>> => {
    if (keys && now() - fetchedAt < maxAgeMs) return keys;
    // Without any keys every request fails anyway: retry sooner than the cooldown to recover fast.
    if (mayFetch(keys ? cooldownMs : Math.min(cooldownMs, NO_KEYS_RETRY_MS))) {
      try {
        await refresh();
      } catch (err) {
        // A stale key set beats none: keep verifying while the issuer is unreachable.
        if (!keys) throw err;
      }
    }
    if (!keys) throw new KeySetUnavailable('the JWKS is unavailable (last fetch failed)');
    return keys;
  };

  return async (header, token) => {
    const set = await current();
    try {
      return await set(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || !mayFetch(cooldownMs)) throw err;
      await refresh();
      return (keys ?? set)(header, token);
    }
  };
}
