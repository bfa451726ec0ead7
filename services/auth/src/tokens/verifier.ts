/**
 * Verifies this issuer's own access tokens against its key store, without an HTTP round trip to
 * `/jwks.json`: for introspection, revocation and the admin API's bearer check. Same rules as the
 * middleware (RFC 9068 §4, RFC 8725): `typ: at+jwt`, `alg` equal to the published key's, `iss`,
 * `exp`/`nbf`; only keys the JWKS currently publishes.
 */
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '@tessera/kernel';
import type { KeyStore } from '../keys/key-store.ts';
import type { AccessTokenClaimSet } from './signer.ts';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_CHARS = 8192;

/** Options of {@link LocalAccessTokenVerifier}. */
export interface LocalAccessTokenVerifierOptions {
  keys: Pick<KeyStore, 'verificationKey'>;
  issuer: string;
  clock: Clock;
}

/**
 * @example
 * const verifier = new LocalAccessTokenVerifier({ keys, issuer, clock });
 * const claims = await verifier.verify(token); // undefined when not a valid, unexpired token of ours
 */
export class LocalAccessTokenVerifier {
  readonly #issuer: string;
  readonly #clock: Clock;
  /** A jose key resolver over the published keys (also handed to @tessera/auth-middleware). */
  readonly getKey: JWTVerifyGetKey;

  constructor(options: LocalAccessTokenVerifierOptions) {
    this.#issuer = options.issuer;
    this.#clock = options.clock;
    this.getKey = async (header: JWTHeaderParameters) => {
      const found =
        typeof header.kid === 'string' && header.kid.length <= 256
          ? await options.keys.verificationKey(header.kid)
          : undefined;
      if (!found || found.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
      return found.key;
    };
  }

  /** True when `token` has the shape of a compact JWS (cheap pre-check, no crypto). */
  static looksLikeJwt(token: string): boolean {
    return token.length <= MAX_TOKEN_CHARS && COMPACT_JWS.test(token);
  }

  /** The claims of a valid, unexpired access token of this issuer; undefined for anything else. */
  async verify(token: string): Promise<AccessTokenClaimSet | undefined> {
    if (!LocalAccessTokenVerifier.looksLikeJwt(token)) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        issuer: this.#issuer,
        typ: 'at+jwt',
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      });
      if (typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') return undefined;
      return payload as unknown as AccessTokenClaimSet;
    } catch {
      return undefined;
    }
  }
}
