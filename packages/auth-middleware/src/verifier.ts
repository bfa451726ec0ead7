/**
 * The framework-independent verifier of RFC 9068 JWT access tokens: the checks of SECURITY.md
 * items 15–19 in one visible pipeline. Every failure is a {@link TokenError}; nothing a token
 * contains can make `verify` throw anything else.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';
import { resolveOptions, type TokenVerifierOptions } from './options.ts';
import { createRemoteKeySet, KeySetUnavailable } from './remote-key-set.ts';
import { checkHeader, checkTokenShape, toAccessTokenClaims } from './token-checks.ts';
import { createVerifiedTokenCache } from './verified-token-cache.ts';

/**
 * Verifies access tokens; built by {@link createTokenVerifier}.
 *
 * @example
 * const claims = await verifier.verify(token); // AccessTokenClaims, or throws TokenError
 */
export interface TokenVerifier {
  /** The claims of a valid, unexpired, unrevoked access token for this audience; else throws TokenError. */
  verify(token: string): Promise<AccessTokenClaims>;
}

/** RFC 9068 §2.2 claims an access token must carry (`aud` and `iss` are matched besides). */
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

/**
 * Builds a verifier for RFC 9068 JWT access tokens. Per token: size and shape before any crypto;
 * `alg` from an asymmetric allowlist and `typ: at+jwt`; the signature with a key from the issuer's
 * JWKS only (`jku`, `x5u` and embedded `jwk` ignored; unknown `kid` → one refetch per cooldown);
 * `iss`, `aud`, `exp`, `nbf`, `iat` with a skew of at most 60 s and the required RFC 9068 claims;
 * then the optional revocation hook. Verified tokens are remembered (by SHA-256) until `exp`;
 * the revocation hook still runs for them. Options are checked here: TypeError on misuse.
 *
 * @example
 * const verifier = createTokenVerifier({
 *   jwksUrl: 'https://id.example.com/jwks.json',
 *   issuer: 'https://id.example.com',
 *   audience: 'tessera-api',
 * });
 * const claims = await verifier.verify(token); // throws TokenError
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const config = resolveOptions(options);
  const { now, isRevoked } = config;
  const source = config.keySource;
  const keys = asKeySource('keys' in source ? source.keys : createRemoteKeySet({ ...source, now }));
  const cache = config.cacheMax > 0 ? createVerifiedTokenCache(config.cacheMax, now) : undefined;

  const verifySignedToken = async (token: string): Promise<AccessTokenClaims> => {
    checkHeader(token, config.algorithms);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSec,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw fromJoseError(err);
    }
    return toAccessTokenClaims(payload, now(), config.clockToleranceSec);
  };

  const checkNotRevoked = async (claims: AccessTokenClaims): Promise<void> => {
    if (!isRevoked) return;
    let revoked: boolean;
    try {
      revoked = await isRevoked(claims.jti, claims);
    } catch (cause) {
      // Fail closed: an unanswerable revocation check must not let a revoked token through.
      throw new TokenError('temporarily_unavailable', 'the revocation check is unavailable', { cause });
    }
    if (revoked) throw new TokenError('invalid_token', 'the token has been revoked');
  };

  return {
    async verify(token) {
      checkTokenShape(token, config.maxTokenBytes);
      let claims = cache?.get(token);
      if (!claims) {
        claims = await verifySignedToken(token);
        cache?.set(token, claims);
      }
      await checkNotRevoked(claims);
      return claims;
    },
  };
}

/**
 * Separates "no such key" (the token's fault: 401) from "could not get the keys" (the issuer's or
 * the key store's fault: 503) for any key resolver, ours or one passed as `keys`.
 */
function asKeySource(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (err) {
      if (
        err instanceof joseErrors.JWKSNoMatchingKey ||
        err instanceof joseErrors.JWKSMultipleMatchingKeys ||
        err instanceof KeySetUnavailable
      )
        throw err;
      throw new KeySetUnavailable('the key resolver failed', { cause: err });
    }
  };
}

/** jose's errors as fixed descriptions: jose messages are not rendered, whatever they contain. */
function fromJoseError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof KeySetUnavailable)
    return new TokenError('temporarily_unavailable', 'the issuer keys are unavailable', { cause: err });
  if (err instanceof joseErrors.JWTExpired) return new TokenError('invalid_token', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    // jose names the claim from a fixed set (iss, aud, nbf, iat, or one of REQUIRED_CLAIMS).
    if (!/^[a-z_]{1,20}$/.test(err.claim))
      return new TokenError('invalid_token', 'the token claims are invalid');
    const problem =
      err.reason === 'missing' ? 'is missing' : err.claim === 'nbf' ? 'is in the future' : 'is invalid';
    return new TokenError('invalid_token', `the token ${err.claim} claim ${problem}`);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return new TokenError('invalid_token', 'no issuer key matches the token');
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys)
    return new TokenError('invalid_token', 'the token has no key id and several issuer keys match');
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return new TokenError('invalid_token', 'the token algorithm is not allowed');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return new TokenError('invalid_token', 'the token signature is invalid');
  return new TokenError('invalid_token', 'the token is malformed');
}
