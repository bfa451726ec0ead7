/**
 * The checks around the signature verification, each one rule. Before any crypto: size, compact
 * JWS shape and the protected header (RFC 8725 §3.1, RFC 9068 §4). After it: the claims jose does
 * not check (types of RFC 9068 §2.2 claims, `iat` not in the future).
 */
import { decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Our issuer's header is `{alg, typ, kid}`; anything near this size is not one of its tokens. */
const MAX_HEADER_CHARS = 1024;
const MAX_KID_CHARS = 256;

/**
 * Oversized and malformed tokens are refused before anything is decoded (SECURITY.md item 18). The
 * shape test admits only base64url, so characters and bytes count the same.
 *
 * @example
 * checkTokenShape(token, 8192); // throws TokenError('invalid_token', 'the token is too large')
 */
export function checkTokenShape(token: unknown, maxTokenBytes: number): asserts token is string {
  if (typeof token !== 'string') throw new TokenError('invalid_token', 'the token is not a string');
  if (token === '') throw new TokenError('invalid_token', 'the token is empty');
  if (token.length > maxTokenBytes) throw new TokenError('invalid_token', 'the token is too large');
  if (!COMPACT_JWS.test(token)) throw new TokenError('invalid_token', 'the token is not a signed JWT');
  if (token.indexOf('.') > MAX_HEADER_CHARS)
    throw new TokenError('invalid_token', 'the token header is too large');
}

/**
 * RFC 8725 §3.1: `alg` from the allowlist (so never `none` or HS*). RFC 9068 §4: `typ` must be
 * `at+jwt`, with or without the `application/` prefix, in any case (media types are
 * case-insensitive) — this keeps ID tokens and other JWTs out. A `kid` is only a string looked up
 * among the issuer's keys; `jku`, `x5u` and `jwk` are never read (RFC 8725 §3.10).
 *
 * @example
 * checkHeader(token, ['ES256', 'EdDSA']); // throws TokenError for alg none, typ JWT, a huge kid…
 */
export function checkHeader(token: string, algorithms: readonly string[]): void {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenError('invalid_token', 'the token header is malformed');
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg))
    throw new TokenError('invalid_token', 'the token algorithm is not allowed');
  if (!isAccessTokenType(header.typ))
    throw new TokenError('invalid_token', 'the token is not an access token (typ)');
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > MAX_KID_CHARS))
    throw new TokenError('invalid_token', 'the token key id is malformed');
}

function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'at+jwt' || lower === 'application/at+jwt';
}

/**
 * The claims jose left unchecked. RFC 9068 §2.2: `sub`, `client_id` and `jti` are strings; §4
 * with RFC 7519 §4.1.6: a token issued in the future (beyond the skew) is refused, as are
 * malformed authorization claims, rather than letting a route misread them.
 *
 * @example
 * const claims = toAccessTokenClaims(payload, Date.now(), 30); // frozen, with `scopes`
 */
export function toAccessTokenClaims(payload: JWTPayload, nowMs: number, skewSec: number): AccessTokenClaims {
  for (const name of ['sub', 'client_id', 'jti'] as const) {
    if (typeof payload[name] !== 'string' || payload[name] === '')
      throw new TokenError('invalid_token', `the token ${name} claim is invalid`);
  }
  if (typeof payload.iat !== 'number' || payload.iat > nowMs / 1000 + skewSec)
    throw new TokenError('invalid_token', 'the token iat claim is in the future');
  const scope = payload.scope ?? '';
  if (typeof scope !== 'string') throw new TokenError('invalid_token', 'the token scope claim is invalid');
  if (payload.org_id !== undefined && typeof payload.org_id !== 'string')
    throw new TokenError('invalid_token', 'the token org_id claim is invalid');
  const lists: Record<string, readonly string[]> = {};
  for (const name of ['roles', 'permissions'] as const) {
    const value = payload[name];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw new TokenError('invalid_token', `the token ${name} claim is invalid`);
    lists[name] = Object.freeze([...value]);
  }
  const aud = Array.isArray(payload.aud) ? Object.freeze([...payload.aud]) : payload.aud;
  const scopes = Object.freeze(scope.split(' ').filter(Boolean));
  return Object.freeze({ ...payload, aud, ...lists, scope, scopes }) as AccessTokenClaims;
}
