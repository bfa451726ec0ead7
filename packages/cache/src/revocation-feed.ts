/**
 * The access-token revocation feed, auth's published contract in Redis (ADR 0008): every
 * deny-listed access token is announced on the channel `<prefix>revoked-access-tokens` as
 * `{"jti":"…","exp":<unix s>}` and kept in the sorted set `<prefix>revoked-access-tokens:index`
 * (member jti, score exp) until it has expired, so a resource server that starts late, or missed
 * a message, can read what is still revoked. `<prefix>` is auth's Redis key prefix.
 */
import type { Cluster, Redis } from 'ioredis';

/** Auth's default Redis key prefix, hence the feed's. */
export const AUTH_REDIS_KEY_PREFIX = 'tessera:auth:';

/** Index entries outlive `exp` by this long: verifiers accept a token up to 60 s of clock skew past it. */
const INDEX_GRACE_S = 60;
const MAX_JTI_LENGTH = 256;

/** One revoked access token. */
export interface Revocation {
  jti: string;
  /** The token's `exp`, Unix seconds. */
  exp: number;
}

/** The pub/sub channel of the feed. */
export function revocationChannel(keyPrefix: string = AUTH_REDIS_KEY_PREFIX): string {
  return `${keyPrefix}revoked-access-tokens`;
}

/** The sorted set of still-relevant revocations. */
export function revocationIndexKey(keyPrefix: string = AUTH_REDIS_KEY_PREFIX): string {
  return `${revocationChannel(keyPrefix)}:index`;
}

/**
 * Records and announces a revocation (index first, so a reader never misses what was announced).
 *
 * @example
 * await publishRevocation(redis, 'tessera:auth:', { jti, exp }, Date.now());
 */
export async function publishRevocation(
  redis: Redis | Cluster,
  keyPrefix: string,
  revocation: Revocation,
  nowMs: number,
): Promise<void> {
  const key = revocationIndexKey(keyPrefix);
  await redis.zadd(key, revocation.exp, revocation.jti);
  await redis.zremrangebyscore(key, '-inf', `(${Math.floor(nowMs / 1000) - INDEX_GRACE_S}`);
  await redis.publish(revocationChannel(keyPrefix), JSON.stringify(revocation));
}

/**
 * The revocations still relevant at `nowMs` (not expired for longer than the grace period).
 *
 * @example
 * for (const { jti, exp } of await readRevocations(redis, 'tessera:auth:', Date.now())) set.add(jti, exp);
 */
export async function readRevocations(
  redis: Redis | Cluster,
  keyPrefix: string,
  nowMs: number,
): Promise<Revocation[]> {
  const flat = await redis.zrangebyscore(
    revocationIndexKey(keyPrefix),
    Math.floor(nowMs / 1000) - INDEX_GRACE_S,
    '+inf',
    'WITHSCORES',
  );
  const out: Revocation[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const revocation = toRevocation(flat[i], Number(flat[i + 1]));
    if (revocation) out.push(revocation);
  }
  return out;
}

/** A feed message as a {@link Revocation}, or undefined when malformed. */
export function parseRevocation(text: string): Revocation | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { jti, exp } = value as Record<string, unknown>;
    return toRevocation(jti, exp);
  } catch {
    return undefined;
  }
}

function toRevocation(jti: unknown, exp: unknown): Revocation | undefined {
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  return { jti, exp };
}
