import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';

/** Asymmetric algorithms a Tessera issuer may sign with. HS* and `none` can never be allowed. */
export type AllowedAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'Ed25519' | 'RS256' | 'PS256';

/** Options for {@link createTokenVerifier}; checked once at build time (TypeError on misuse). */
export interface TokenVerifierOptions {
  /** The issuer's JWKS document URL; fetched on first use, cached, refetched on an unknown `kid`. */
  jwksUrl?: string;
  /** Instead of `jwksUrl`: a key resolver (tests, or a key set already in memory). */
  keys?: JWTVerifyGetKey;
  issuer: string;
  audience: string | string[];
  algorithms?: AllowedAlgorithm[];
  /** Allowed clock skew for exp/nbf/iat in seconds (0..60, default 30). */
  clockToleranceSec?: number;
  /** Tokens longer than this are refused before any parsing or crypto (default 8192). */
  maxTokenBytes?: number;
  /** Most verified tokens remembered (by SHA-256 of the token) until their `exp` (default 10,000; 0 = off). */
  cacheMax?: number;
  /** Minimum seconds between two JWKS fetches caused by unknown `kid`s (default 30). */
  jwksCooldownSec?: number;
  /** Milliseconds to wait for the JWKS endpoint (default 5,000). */
  jwksTimeoutMs?: number;
  /** Opt-in revocation check (e.g. a jti denylist); runs on every request, cached or not. */
  isRevoked?: (jti: string, claims: AccessTokenClaims) => Promise<boolean>;
  /** Current time in ms (tests). */
  now?: () => number;
}

/** Verifies access tokens; see {@link createTokenVerifier}. */
export interface TokenVerifier {
  verify(token: string): Promise<AccessTokenClaims>;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

/**
 * Builds a verifier for RFC 9068 JWT access tokens: size and shape checked before crypto, `alg`
 * from an asymmetric allowlist, `typ` must be `at+jwt`, `iss`/`aud`/`exp`/`nbf`/`iat` with
 * bounded skew, keys only from the issuer's JWKS (`jku`, `x5u` and embedded `jwk` are ignored),
 * and an LRU of already-verified tokens kept until they expire.
 *
 * @example
 * const verifier = createTokenVerifier({
 *   jwksUrl: 'http://localhost:8080/jwks.json',
 *   issuer: 'http://localhost:8080',
 *   audience: 'tessera-api',
 * });
 * const claims = await verifier.verify(token); // throws TokenError
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = options.algorithms ?? ['ES256', 'EdDSA', 'Ed25519', 'RS256'];
  for (const alg of algorithms as string[]) {
    if (alg === 'none' || /^HS/i.test(alg)) {
      throw new TypeError(`createTokenVerifier: algorithm "${alg}" must never be accepted for access tokens`);
    }
  }
  if (!options.jwksUrl === !options.keys)
    throw new TypeError('createTokenVerifier: give exactly one of jwksUrl or keys');
  const skew = options.clockToleranceSec ?? 30;
  if (skew < 0 || skew > 60)
    throw new TypeError('createTokenVerifier: clockToleranceSec must be within 0..60');
  if (!options.issuer) throw new TypeError('createTokenVerifier: issuer is required');
  const maxBytes = options.maxTokenBytes ?? 8192;
  const now = options.now ?? Date.now;
  const keys =
    options.keys ??
    createRemoteJWKSet(new URL(options.jwksUrl as string), {
      cooldownDuration: (options.jwksCooldownSec ?? 30) * 1000,
      cacheMaxAge: 10 * 60 * 1000,
      timeoutDuration: options.jwksTimeoutMs ?? 5000,
    });
  const cacheMax = options.cacheMax ?? 10_000;
  const cache = cacheMax > 0 ? new LRUCache<string, AccessTokenClaims>({ max: cacheMax }) : undefined;

  const checkRevoked = async (claims: AccessTokenClaims): Promise<AccessTokenClaims> => {
    if (options.isRevoked && (await options.isRevoked(claims.jti, claims))) {
      throw new TokenError('invalid_token', 'the token has been revoked');
    }
    return claims;
  };

  return {
    async verify(token) {
      if (token.length > maxBytes) throw new TokenError('invalid_token', 'the token is too large');
      if (!COMPACT_JWS.test(token)) throw new TokenError('invalid_token', 'the token is not a signed JWT');
      const cacheKey = cache ? createHash('sha256').update(token).digest('base64url') : '';
      const cached = cache?.get(cacheKey);
      if (cached) {
        if (cached.exp * 1000 + skew * 1000 <= now()) {
          cache?.delete(cacheKey);
          throw new TokenError('invalid_token', 'the token has expired');
        }
        return checkRevoked(cached);
      }
      let header;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new TokenError('invalid_token', 'the token header is malformed');
      }
      if (typeof header.alg !== 'string' || !(algorithms as string[]).includes(header.alg)) {
        throw new TokenError('invalid_token', 'the token algorithm is not allowed');
      }
      if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > 256)) {
        throw new TokenError('invalid_token', 'the token key id is malformed');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          typ: 'at+jwt',
          clockTolerance: skew,
          requiredClaims: REQUIRED_CLAIMS,
          currentDate: new Date(now()),
        }));
      } catch (err) {
        throw mapJoseError(err);
      }
      const claims = toClaims(payload);
      if (cache) {
        const ttl = claims.exp * 1000 - now();
        if (ttl > 0) cache.set(cacheKey, claims, { ttl });
      }
      return checkRevoked(claims);
    },
  };
}

function toClaims(payload: JWTPayload): AccessTokenClaims {
  const scope = payload.scope ?? '';
  if (typeof scope !== 'string') throw new TokenError('invalid_token', 'the token scope claim is malformed');
  if (typeof payload.client_id !== 'string')
    throw new TokenError('invalid_token', 'the token client_id claim is malformed');
  for (const list of ['roles', 'permissions'] as const) {
    const value = payload[list];
    if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      throw new TokenError('invalid_token', `the token ${list} claim is malformed`);
    }
  }
  return {
    ...payload,
    scopes: scope.split(' ').filter(Boolean),
    scope,
  } as AccessTokenClaims;
}

function mapJoseError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenError('invalid_token', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = /^[a-z_]{1,20}$/.test(err.claim) ? err.claim : 'a';
    return new TokenError('invalid_token', `the token ${claim} claim is invalid`);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new TokenError('invalid_token', 'no issuer key matches the token');
  }
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || isFetchFailure(err)) {
    return new TokenError('temporarily_unavailable', 'the issuer keys are unavailable');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return new TokenError('invalid_token', 'the token algorithm is not allowed');
  return new TokenError('invalid_token', 'the token signature is invalid');
}

function isFetchFailure(err: unknown): boolean {
  return err instanceof TypeError && /fetch failed/i.test(err.message);
}
