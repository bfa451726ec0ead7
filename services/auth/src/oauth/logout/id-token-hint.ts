import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { JwksSource } from '../../flows/deps.ts';
import { VERIFY_ALGORITHMS } from '../userinfo/access-token.ts';

/** What an ID token hint tells the logout and authorization endpoints. */
export interface IdTokenHint {
  sub: string;
  /** The client the ID token was issued to. */
  clientId: string;
  /** Every string in the token's `aud`. */
  audience: string[];
}

/**
 * Verifies an `id_token_hint` (OIDC RP-Initiated Logout §2, OIDC Core §3.1.2.1): signed by one
 * of our published keys and issued by us; it may have expired (a user often logs out, or an RP
 * re-authenticates, long after signing in). Access tokens (`typ: at+jwt`) are not ID tokens and
 * are refused.
 */
export async function verifyIdTokenHint(
  token: string,
  options: { jwks: JwksSource; issuer: string },
): Promise<IdTokenHint | undefined> {
  if (token.length > 8 * 1024) return undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.typ === 'string' && header.typ.toLowerCase().endsWith('at+jwt')) return undefined;
    const keys = createLocalJWKSet(await options.jwks());
    const { payload } = await compactVerify(token, keys, { algorithms: VERIFY_ALGORITHMS });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== options.issuer || typeof claims.sub !== 'string') return undefined;
    const audiences: unknown[] = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud];
    const clientId: unknown = typeof claims.azp === 'string' ? claims.azp : audiences[0];
    const audience = audiences.filter((value): value is string => typeof value === 'string');
    return typeof clientId === 'string' ? { sub: claims.sub, clientId, audience } : undefined;
  } catch {
    return undefined;
  }
}
