import type { Redis } from 'ioredis';

/**
 * A rate-limit policy: `limit` requests per `windowSeconds` per key, enforced with GCRA (the
 * generic cell rate algorithm): one timestamp per key, smooth refill, bursts up to `limit`.
 */
export interface RateLimitPolicy {
  name: string;
  limit: number;
  windowSeconds: number;
}

/** One check: a policy applied to one key (an IP, a client_id, a user). */
export interface RateLimitCheck {
  policy: RateLimitPolicy;
  key: string;
}

/** The outcome, for the most constraining check. */
export interface RateLimitDecision {
  allowed: boolean;
  policy: RateLimitPolicy;
  remaining: number;
  /** Seconds until the quota is fully available again (RateLimit `t`). */
  resetSeconds: number;
  /** Seconds until one request is allowed again (when denied). */
  retryAfterSeconds: number;
}

/** Where the counters live. */
export interface RateLimitStore {
  /** All checks succeed together or none is charged (one atomic round trip on Redis). */
  take(checks: RateLimitCheck[]): Promise<RateLimitDecision>;
}

/**
 * GCRA over several keys in one atomic script: reads every key's theoretical arrival time (TAT),
 * allows only if every key allows, then writes the new TATs with an expiry. Time comes from
 * Redis (`TIME`) so every gateway instance uses one clock.
 * Returns per key: allowed flag (1/0), remaining, reset ms, retry-after ms.
 */
const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local allowed = 1
local out = {}
local tats = {}
for i = 1, n do
  local emission = tonumber(ARGV[(i - 1) * 2 + 1])
  local limit = tonumber(ARGV[(i - 1) * 2 + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + emission
  local allow_at = new_tat - emission * limit
  local ok = 1
  local retry = 0
  if now < allow_at then ok = 0; allowed = 0; retry = allow_at - now end
  tats[i] = new_tat
  local used_tat = new_tat
  if ok == 0 then used_tat = tat end
  local remaining = math.floor((now - (used_tat - emission * limit)) / emission)
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = ok
  out[#out + 1] = remaining
  out[#out + 1] = used_tat - now
  out[#out + 1] = retry
end
if allowed == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now) + 1000)
  end
end
return out
`;

function decide(checks: RateLimitCheck[], raw: number[]): RateLimitDecision {
  let chosen: RateLimitDecision | undefined;
  for (let i = 0; i < checks.length; i++) {
    const ok = raw[i * 4] === 1;
    const decision: RateLimitDecision = {
      allowed: ok,
      policy: checks[i]!.policy,
      remaining: raw[i * 4 + 1] ?? 0,
      resetSeconds: Math.ceil((raw[i * 4 + 2] ?? 0) / 1000),
      retryAfterSeconds: Math.max(1, Math.ceil((raw[i * 4 + 3] ?? 0) / 1000)),
    };
    // Report the denying check, else the one with the least room left.
    if (
      !chosen ||
      (!decision.allowed && chosen.allowed) ||
      (decision.allowed === chosen.allowed && decision.remaining < chosen.remaining)
    ) {
      chosen = decision;
    }
  }
  return chosen!;
}

function argsFor(checks: RateLimitCheck[]): number[] {
  const args: number[] = [];
  for (const { policy } of checks) args.push((policy.windowSeconds * 1000) / policy.limit, policy.limit);
  return args;
}

/**
 * Redis-backed limits shared by every gateway instance: one EVALSHA per request.
 *
 * @example
 * const store = redisRateLimitStore(redis, 'tessera:rl:');
 * const decision = await store.take([{ policy, key: `ip:${ip}` }]);
 */
export function redisRateLimitStore(redis: Redis, prefix: string): RateLimitStore {
  redis.defineCommand('tesseraGcra', { lua: GCRA_LUA });
  const run = redis as unknown as {
    tesseraGcra(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  };
  return {
    async take(checks) {
      const keys = checks.map((c) => `${prefix}${c.policy.name}:${c.key}`);
      const raw = await run.tesseraGcra(keys.length, ...keys, ...argsFor(checks));
      return decide(checks, raw);
    },
  };
}

/**
 * The same GCRA in process memory (one instance, or Redis not configured). Bounded: keys whose
 * TAT is in the past are swept.
 *
 * @example
 * const store = memoryRateLimitStore();
 */
export function memoryRateLimitStore(now: () => number = Date.now, maxKeys = 100_000): RateLimitStore {
  const tats = new Map<string, number>();
  return {
    async take(checks) {
      const t = now();
      if (tats.size > maxKeys) for (const [k, v] of tats) if (v < t) tats.delete(k);
      const raw: number[] = [];
      const next: Array<[string, number]> = [];
      let allowed = true;
      for (const { policy, key } of checks) {
        const id = `${policy.name}:${key}`;
        const emission = (policy.windowSeconds * 1000) / policy.limit;
        const tat = Math.max(tats.get(id) ?? t, t);
        const newTat = tat + emission;
        const allowAt = newTat - emission * policy.limit;
        const ok = t >= allowAt;
        if (!ok) allowed = false;
        const used = ok ? newTat : tat;
        raw.push(
          ok ? 1 : 0,
          Math.max(0, Math.floor((t - (used - emission * policy.limit)) / emission)),
          used - t,
          ok ? 0 : allowAt - t,
        );
        next.push([id, newTat]);
      }
      if (allowed) for (const [id, tat] of next) tats.set(id, tat);
      return decide(checks, raw);
    },
  };
}

/**
 * IETF draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit` field values.
 *
 * @example
 * reply.header('ratelimit-policy', policyHeader(d)).header('ratelimit', limitHeader(d));
 */
export function policyHeader(decision: RateLimitDecision): string {
  return `"${decision.policy.name}";q=${decision.policy.limit};w=${decision.policy.windowSeconds}`;
}

/** See {@link policyHeader}. */
export function limitHeader(decision: RateLimitDecision): string {
  return `"${decision.policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`;
}
