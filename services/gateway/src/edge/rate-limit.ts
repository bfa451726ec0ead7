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
 * GCRA for a batch of requests in one atomic script. Each request has its own checks (keys, each
 * with its policy); requests are decided in order exactly as if each had run alone: a request is
 * allowed only if every one of its keys allows, and only then are its keys charged (later requests
 * of the batch see those charges). KEYS holds each distinct key once (requests of a batch mostly
 * share their IP, client and user keys), so every key's theoretical arrival time (TAT) is read once
 * (MGET) and every charged key written once at the end, with an expiry. Time comes from Redis
 * (`TIME`) so every gateway instance uses one clock.
 * ARGV: per key its emission interval (ms) and limit; then the request count; then per request its
 * check count and the 1-based indexes of its keys. Returns per request five integers: allowed
 * (1/0), the 0-based index of the check reported (the denying one, else the one with the least
 * room), its remaining count, reset ms and retry-after ms.
 */
const GCRA_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nk = #KEYS
local current = redis.call('MGET', unpack(KEYS))
local tat, emission, limit, charged = {}, {}, {}, {}
for i = 1, nk do
  tat[i] = tonumber(current[i]) or now
  emission[i] = tonumber(ARGV[2 * i - 1])
  limit[i] = tonumber(ARGV[2 * i])
end
local out = {}
local a = 2 * nk + 1
for r = 1, tonumber(ARGV[a]) do
  a = a + 1
  local n = tonumber(ARGV[a])
  local allowed = 1
  local best, best_ok, best_rem, best_reset, best_retry = 0, 1, 0, 0, 0
  local next_tat = {}
  for c = 1, n do
    local k = tonumber(ARGV[a + c])
    local e = emission[k]
    local cur = tat[k]
    if cur < now then cur = now end
    local new_tat = cur + e
    local allow_at = new_tat - e * limit[k]
    local ok, retry, used = 1, 0, new_tat
    if now < allow_at then ok = 0; allowed = 0; retry = allow_at - now; used = cur end
    next_tat[c] = new_tat
    local rem = math.floor((now - (used - e * limit[k])) / e)
    if rem < 0 then rem = 0 end
    if best == 0 or (ok == 0 and best_ok == 1) or (ok == best_ok and rem < best_rem) then
      best, best_ok, best_rem, best_reset, best_retry = c, ok, rem, used - now, retry
    end
  end
  if allowed == 1 then
    for c = 1, n do
      local k = tonumber(ARGV[a + c])
      tat[k] = next_tat[c]
      charged[k] = true
    end
  end
  a = a + n
  out[#out + 1] = allowed
  out[#out + 1] = best - 1
  out[#out + 1] = best_rem
  out[#out + 1] = best_reset
  out[#out + 1] = best_retry
end
for i = 1, nk do
  if charged[i] then
    redis.call('SET', KEYS[i], tat[i], 'PX', math.ceil(tat[i] - now) + 1000)
  end
end
return out
`;

/** Integers the batch script returns per request. */
const PER_REQUEST = 5;

/** A request's decision from its five integers in the batch script's reply. */
function batchDecision(checks: RateLimitCheck[], raw: number[], at: number): RateLimitDecision {
  const check = checks[raw[at + 1] ?? 0] ?? checks[0]!;
  return {
    allowed: raw[at] === 1,
    policy: check.policy,
    remaining: raw[at + 2] ?? 0,
    resetSeconds: Math.ceil((raw[at + 3] ?? 0) / 1000),
    retryAfterSeconds: Math.max(1, Math.ceil((raw[at + 4] ?? 0) / 1000)),
  };
}

function decide(checks: RateLimitCheck[], raw: number[]): RateLimitDecision {
  let chosen: RateLimitDecision | undefined;
  for (let i = 0; i < checks.length; i++) {
    const at = i * 4;
    const ok = raw[at] === 1;
    const decision: RateLimitDecision = {
      allowed: ok,
      policy: checks[i]!.policy,
      remaining: raw[at + 1] ?? 0,
      resetSeconds: Math.ceil((raw[at + 2] ?? 0) / 1000),
      retryAfterSeconds: Math.max(1, Math.ceil((raw[at + 3] ?? 0) / 1000)),
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

interface Pending {
  checks: RateLimitCheck[];
  resolve(decision: RateLimitDecision): void;
  reject(err: unknown): void;
}

const SCRIPT = 'tesseraGcraBatch';
/** A call carrying at least this many requests means load: the next call waits {@link HOLD_MS}. */
const HOLD_FROM_BATCH = 4;
/** How long a call waits under load for more requests to join it (Node's timer floor, 1 ms). */
const HOLD_MS = 1;

/**
 * Redis-backed limits shared by every gateway instance: one EVALSHA round trip per request at
 * most. Requests that arrive while a round trip is in flight wait for it (as ioredis's
 * auto-pipelining would make them) and then go together in one EVALSHA (at most `maxBatch`
 * requests each): under load one script call, one MGET and one SET per distinct key serve many
 * requests. When the last call carried several requests, the next one waits 1 ms for more to
 * join (under load a request may wait up to 1 ms longer; at light load none does). The script is sent without ioredis's auto-pipelining (there is at most one call in
 * flight, nothing to pipeline, and its per-call Pipeline costs more than the call).
 *
 * @example
 * const store = redisRateLimitStore(redis, 'tessera:rl:');
 * const decision = await store.take([{ policy, key: `ip:${ip}` }]);
 */
export function redisRateLimitStore(redis: Redis, prefix: string, maxBatch = 64): RateLimitStore {
  redis.defineCommand(SCRIPT, { lua: GCRA_BATCH_LUA });
  const options = redis.options;
  if (!options.autoPipeliningIgnoredCommands?.includes(SCRIPT))
    options.autoPipeliningIgnoredCommands = [...(options.autoPipeliningIgnoredCommands ?? []), SCRIPT];
  const run = redis as unknown as Record<
    typeof SCRIPT,
    (numKeys: number, ...args: Array<string | number>) => Promise<number[]>
  >;
  let queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  let lastBatch = 0;

  const send = (batch: Pending[]) => {
    // Each distinct key once, with its policy's emission interval and limit; requests name keys by index.
    const index = new Map<string, number>();
    const keys: string[] = [];
    const keyArgs: number[] = [];
    const requestArgs: number[] = [batch.length];
    for (const { checks } of batch) {
      requestArgs.push(checks.length);
      for (const { policy, key } of checks) {
        const name = `${prefix}${policy.name}:${key}`;
        let at = index.get(name);
        if (at === undefined) {
          keys.push(name);
          at = keys.length;
          index.set(name, at);
          keyArgs.push((policy.windowSeconds * 1000) / policy.limit, policy.limit);
        }
        requestArgs.push(at);
      }
    }
    const args = [...keyArgs, ...requestArgs];
    inFlight++;
    let reply: Promise<number[]>;
    try {
      reply = run[SCRIPT](keys.length, ...keys, ...args);
    } catch (err) {
      reply = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void reply
      .then(
        (raw) => {
          for (let i = 0; i < batch.length; i++) {
            const pending = batch[i]!;
            try {
              pending.resolve(batchDecision(pending.checks, raw, i * PER_REQUEST));
            } catch (err) {
              pending.reject(err);
            }
          }
        },
        (err: unknown) => {
          for (const pending of batch) pending.reject(err);
        },
      )
      .finally(done);
  };
  const flush = () => {
    scheduled = false;
    const waiting = queue;
    queue = [];
    lastBatch = waiting.length;
    for (let i = 0; i < waiting.length; i += maxBatch) send(waiting.slice(i, i + maxBatch));
  };
  const done = () => {
    inFlight--;
    if (inFlight === 0 && queue.length > 0 && !scheduled) {
      // Under load (the last call carried several requests) wait a moment so the next call
      // carries more: every call costs a socket write and a Redis wake-up whatever its size. At
      // light load calls carry one request and go at once, adding no latency.
      if (lastBatch >= HOLD_FROM_BATCH && queue.length < maxBatch) {
        scheduled = true;
        setTimeout(flush, HOLD_MS);
      } else flush();
    }
  };

  return {
    take(checks) {
      return new Promise<RateLimitDecision>((resolve, reject) => {
        queue.push({ checks, resolve, reject });
        // Nothing in flight: go once this turn of the event loop has read its sockets (the
        // requests read in the same turn share the call, as with ioredis's auto-pipelining).
        if (inFlight === 0 && !scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
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
