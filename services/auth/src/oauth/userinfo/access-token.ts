import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { AccessTokenDenylist } from '../../contracts.ts';
import type { JwksSource } from '../../flows/deps.ts';

/** Asymmetric algorithms only (RFC 8725 §3.1: no `none`, no HS* against published public keys). */
export const VERIFY_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];

/** The claims userinfo relies on. */
export interface VerifiedAccessToken {
  sub: string;
  scopes: string[];
  clientId: string | undefined;
}

/** Largest token worth verifying (SECURITY 18: oversized tokens are refused before any crypto). */
const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Verifies an access token issued by this server (RFC 9068 §4): signature by a key from our own
 * JWKS, `iss`, `aud` (one of `audiences`), `typ: at+jwt`, `exp`/`nbf` with 60 s skew, and not on
 * the denylist. Returns
 * undefined for anything else.
 */
export async function verifyAccessToken(
  token: string,
  options: {
    jwks: JwksSource;
    issuer: string;
    /** `aud` must name one of these (RFC 9068 §4). */
    audiences: string[];
    denylist: AccessTokenDenylist;
    now: number;
  },
): Promise<VerifiedAccessToken | undefined> {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  let payload: JWTPayload;
  try {
    const keys = createLocalJWKSet(await options.jwks());
    ({ payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      audience: options.audiences,
      typ: 'at+jwt',
      algorithms: VERIFY_ALGORITHMS,
      clockTolerance: 60,
      currentDate: new Date(options.now),
    }));
  } catch {
    return undefined;
  }
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return undefined;
  if (await options.denylist.has(payload.jti)) return undefined;
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  return { sub: payload.sub, scopes: scope.split(' ').filter((s) => s.length > 0), clientId };
}
