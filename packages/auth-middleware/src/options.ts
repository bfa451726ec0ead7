/**
 * The verifier's configuration, checked once at build time: a misconfiguration is a TypeError at
 * start-up, never a weaker check at request time (RFC 8725 §3.1: the algorithm allowlist can never
 * contain `none` or a symmetric algorithm for keys published as asymmetric).
 */
import type { JWTVerifyGetKey } from 'jose';
import type { AccessTokenClaims } from './claims.ts';

/**
 * Asymmetric JWS algorithms a verifier may accept. `none` and HS* are not in the type and are
 * refused at run time too.
 *
 * @example
 * const algorithms: AllowedAlgorithm[] = ['ES256', 'EdDSA'];
 */
export type AllowedAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512';

const ASYMMETRIC: ReadonlySet<string> = new Set<AllowedAlgorithm>([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]);

/**
 * Options of {@link createTokenVerifier}; give exactly one of `jwksUrl` and `keys`.
 *
 * @example
 * const options: TokenVerifierOptions = {
 *   jwksUrl: 'https://id.example.com/jwks.json',
 *   issuer: 'https://id.example.com',
 *   audience: 'tessera-api',
 *   isRevoked: async (jti) => denylist.has(jti),
 * };
 */
export interface TokenVerifierOptions {
  /** The issuer's JWKS (http or https); fetched on first use, cached, refetched on an unknown `kid`. */
  jwksUrl?: string | URL;
  /** Instead of `jwksUrl`: a jose key resolver (a key set already in memory, or tests). */
  keys?: JWTVerifyGetKey;
  /** The exact `iss` expected. */
  issuer: string;
  /** The `aud` value(s) this resource server accepts; one match is enough. */
  audience: string | readonly string[];
  /** Default `['ES256', 'EdDSA', 'RS256']`. */
  algorithms?: readonly AllowedAlgorithm[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds: 0–60, default 30. */
  clockToleranceSec?: number;
  /** Longer tokens are refused before any parsing or crypto; default 8192. */
  maxTokenBytes?: number;
  /**
   * The LRU of verified tokens (keyed by SHA-256 of the token, kept until `exp`): at most `max`
   * entries, default 10,000; `max: 0` turns it off.
   */
  cache?: { max?: number };
  /** JWKS fetching; ignored with `keys`. */
  jwks?: {
    /** Minimum seconds between two fetches caused by unknown `kid`s or failures (≥ 1, default 30). */
    cooldownSec?: number;
    /** Seconds after which the key set is refreshed on next use (default 600). */
    maxAgeSec?: number;
    /** Milliseconds to wait for the JWKS endpoint (default 5000). */
    timeoutMs?: number;
  };
  /**
   * Opt-in revocation check (e.g. a `jti` denylist), run on every verification, cached or not, so
   * a revoked token stops working at once. Failing (throwing) fails closed with a 503.
   */
  isRevoked?: (jti: string, claims: AccessTokenClaims) => Promise<boolean>;
  /** Current time in ms (default `Date.now`) for `exp`/`nbf`/`iat`, the cache and the JWKS cooldown. */
  now?: () => number;
}

/**
 * {@link TokenVerifierOptions} with defaults applied and every value checked.
 *
 * @example
 * const { algorithms, maxTokenBytes } = resolveOptions(options);
 */
export interface ResolvedOptions {
  keySource:
    { url: URL; cooldownMs: number; maxAgeMs: number; timeoutMs: number } | { keys: JWTVerifyGetKey };
  issuer: string;
  audience: string | string[];
  algorithms: AllowedAlgorithm[];
  clockToleranceSec: number;
  maxTokenBytes: number;
  cacheMax: number;
  isRevoked: TokenVerifierOptions['isRevoked'];
  now: () => number;
}

const DEFAULT_ALGORITHMS: AllowedAlgorithm[] = ['ES256', 'EdDSA', 'RS256'];
const MAX_CLOCK_TOLERANCE_SEC = 60;

/**
 * Applies defaults and throws TypeError for any option that would weaken or break verification.
 *
 * @example
 * const config = resolveOptions({ jwksUrl, issuer, audience: 'tessera-api' });
 * config.clockToleranceSec; // 30
 */
export function resolveOptions(options: TokenVerifierOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new TypeError(`createTokenVerifier: ${message}`);
  };
  if ((options.jwksUrl === undefined) === (options.keys === undefined))
    fail('give exactly one of jwksUrl or keys');
  if (typeof options.issuer !== 'string' || options.issuer === '') fail('issuer must be a non-empty string');
  const audience: unknown = options.audience;
  const audienceOk =
    typeof audience === 'string'
      ? audience !== ''
      : Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a);
  if (!audienceOk) fail('audience must be a non-empty string or a non-empty list of them');

  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  if (algorithms.length === 0) fail('algorithms must not be empty');
  for (const alg of algorithms as string[]) {
    if (typeof alg === 'string' && (alg.toLowerCase() === 'none' || /^HS/i.test(alg)))
      fail(`algorithm "${alg}" must never be accepted for access tokens (RFC 8725 §3.1)`);
    if (!ASYMMETRIC.has(alg)) fail(`unknown algorithm "${String(alg)}"`);
  }

  const clockToleranceSec = options.clockToleranceSec ?? 30;
  if (!inRange(clockToleranceSec, 0, MAX_CLOCK_TOLERANCE_SEC))
    fail(`clockToleranceSec must be within 0..${MAX_CLOCK_TOLERANCE_SEC}`);
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 1) fail('maxTokenBytes must be a positive integer');
  const cacheMax = options.cache?.max ?? 10_000;
  if (!Number.isInteger(cacheMax) || cacheMax < 0) fail('cache.max must be a non-negative integer');
  if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function')
    fail('isRevoked must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') fail('now must be a function');

  return {
    keySource: options.keys ? { keys: options.keys } : resolveJwks(options, fail),
    issuer: options.issuer,
    audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
    algorithms,
    clockToleranceSec,
    maxTokenBytes,
    cacheMax,
    isRevoked: options.isRevoked,
    now: options.now ?? Date.now,
  };
}

function resolveJwks(options: TokenVerifierOptions, fail: (message: string) => never) {
  const url = URL.parse(String(options.jwksUrl));
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:')
    return fail('jwksUrl must be an absolute http(s) URL');
  const cooldownSec = options.jwks?.cooldownSec ?? 30;
  const maxAgeSec = options.jwks?.maxAgeSec ?? 600;
  const timeoutMs = options.jwks?.timeoutMs ?? 5000;
  // A zero cooldown would let anyone choosing `kid`s make us fetch the JWKS on every request.
  if (!inRange(cooldownSec, 1, Infinity)) fail('jwks.cooldownSec must be at least 1');
  if (!inRange(maxAgeSec, cooldownSec, Infinity)) fail('jwks.maxAgeSec must be at least jwks.cooldownSec');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) fail('jwks.timeoutMs must be a positive integer');
  return { url, cooldownMs: cooldownSec * 1000, maxAgeMs: maxAgeSec * 1000, timeoutMs };
}

function inRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && !Number.isNaN(value) && value >= min && value <= max;
}
