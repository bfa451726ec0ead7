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
 *
 * Consecutive requests with the same keys form a *run* (under load most of a batch is one run per
 * client): the script charges a run's requests one after the other until one is refused — time
 * stands still inside the script, so every later request of the run is refused too — and reports
 * per run, not per request: the last allowed request's most constrained check and the refused
 * requests' deciding check. {@link decodeRuns} derives each request's figures from those (each
 * allowed request of a run has exactly one unit more room than the next).
 *
 * ARGV: per key its emission interval (ms) and limit; then the run count; then per run its request
 * count, its check count and the 1-based indexes of its keys. Returns per run {@link PER_RUN}
 * integers: allowed count; for the last allowed request the 0-based index of the check with the
 * least room, its remaining count and reset ms; for the refused ones the reported check (the
 * refusing one with the least room), its remaining count, reset ms and retry-after ms.
 */
const GCRA_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nk = #KEYS
local current = redis.call('MGET', unpack(KEYS))
local tat, emission, limit, charged = {}, {}, {}, {}
for i = 1, nk do
  local v = tonumber(current[i])
  if v == nil or v < now then v = now end
  tat[i] = v
  emission[i] = tonumber(ARGV[2 * i - 1])
  limit[i] = tonumber(ARGV[2 * i])
end
local out = {}
local a = 2 * nk + 1
for r = 1, tonumber(ARGV[a]) do
  local m = tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  local keys = {}
  for c = 1, n do keys[c] = tonumber(ARGV[a + 2 + c]) end
  a = a + 2 + n
  local allowed = 0
  while allowed < m do
    local ok = true
    for c = 1, n do
      local k = keys[c]
      if now < tat[k] + emission[k] - emission[k] * limit[k] then ok = false; break end
    end
    if not ok then break end
    for c = 1, n do
      local k = keys[c]
      tat[k] = tat[k] + emission[k]
      charged[k] = true
    end
    allowed = allowed + 1
  end
  -- The last allowed request: every check allowed it; report the one with the least room.
  local a_best, a_rem, a_reset = 0, 0, 0
  if allowed > 0 then
    for c = 1, n do
      local k = keys[c]
      local e = emission[k]
      local rem = math.floor((now - (tat[k] - e * limit[k])) / e)
      if rem < 0 then rem = 0 end
      if c == 1 or rem < a_rem then a_best, a_rem, a_reset = c, rem, tat[k] - now end
    end
  end
  -- The refused requests (all alike): the refusing check with the least room.
  local d_best, d_ok, d_rem, d_reset, d_retry = 0, 1, 0, 0, 0
  if allowed < m then
    for c = 1, n do
      local k = keys[c]
      local e = emission[k]
      local new_tat = tat[k] + e
      local allow_at = new_tat - e * limit[k]
      local ok, retry, used = 1, 0, new_tat
      if now < allow_at then ok = 0; retry = allow_at - now; used = tat[k] end
      local rem = math.floor((now - (used - e * limit[k])) / e)
      if rem < 0 then rem = 0 end
      if d_best == 0 or (ok == 0 and d_ok == 1) or (ok == d_ok and rem < d_rem) then
        d_best, d_ok, d_rem, d_reset, d_retry = c, ok, rem, used - now, retry
      end
    end
  end
  out[#out + 1] = allowed
  out[#out + 1] = a_best - 1
  out[#out + 1] = a_rem
  out[#out + 1] = a_reset
  out[#out + 1] = d_best - 1
  out[#out + 1] = d_rem
  out[#out + 1] = d_reset
  out[#out + 1] = d_retry
end
for i = 1, nk do
  if charged[i] then
    redis.call('SET', KEYS[i], tat[i], 'PX', math.ceil(tat[i] - now) + 1000)
  end
end
return out
`;

/** Integers the batch script returns per run. */
const PER_RUN = 8;

/** A policy's emission interval: the milliseconds one request uses up. */
const emissionMs = (policy: RateLimitPolicy) => (policy.windowSeconds * 1000) / policy.limit;

/**
 * Each request's decision from the script's per-run reply: run i is the next `runs[i].count`
 * requests of the batch, in order. The j-th of a run's `allowed` requests had `allowed - 1 - j` more units of
 * room than the last one and its reset came that many emission intervals earlier.
 */
function decodeRuns(
  batch: readonly Pending[],
  runs: ReadonlyArray<{ count: number }>,
  raw: readonly number[],
): void {
  let at = 0;
  for (let r = 0; r < runs.length; r++) {
    const base = r * PER_RUN;
    const allowed = raw[base] ?? 0;
    for (let j = 0; j < runs[r]!.count; j++, at++) {
      const pending = batch[at]!;
      const { checks } = pending;
      if (j < allowed) {
        const check = checks[raw[base + 1] ?? 0] ?? checks[0]!;
        const earlier = allowed - 1 - j;
        pending.resolve({
          allowed: true,
          policy: check.policy,
          remaining: (raw[base + 2] ?? 0) + earlier,
          resetSeconds: Math.ceil(((raw[base + 3] ?? 0) - earlier * emissionMs(check.policy)) / 1000),
          retryAfterSeconds: 1,
        });
      } else {
        const check = checks[raw[base + 4] ?? 0] ?? checks[0]!;
        pending.resolve({
          allowed: false,
          policy: check.policy,
          remaining: raw[base + 5] ?? 0,
          resetSeconds: Math.ceil((raw[base + 6] ?? 0) / 1000),
          retryAfterSeconds: Math.max(1, Math.ceil((raw[base + 7] ?? 0) / 1000)),
        });
      }
    }
  }
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
    // Each distinct key once, with its policy's emission interval and limit; requests name keys by
    // index, and consecutive requests with the same keys go as one run (see GCRA_BATCH_LUA).
    const index = new Map<string, number>();
    const keys: string[] = [];
    const keyArgs: number[] = [];
    const runs: Array<{ count: number; indexes: number[] }> = [];
    for (const pending of batch) {
      const indexes: number[] = [];
      const unique: RateLimitCheck[] = [];
      for (const check of pending.checks) {
        const name = `${prefix}${check.policy.name}:${check.key}`;
        let at = index.get(name);
        if (at === undefined) {
          keys.push(name);
          at = keys.length;
          index.set(name, at);
          keyArgs.push(emissionMs(check.policy), check.policy.limit);
        }
        // A key named twice by one request is one check (charged once), as in the memory store.
        if (indexes.includes(at)) continue;
        indexes.push(at);
        unique.push(check);
      }
      pending.checks = unique;
      const last = runs.at(-1);
      if (last && sameIndexes(indexes, last.indexes)) last.count++;
      else runs.push({ count: 1, indexes });
    }
    const args: number[] = [...keyArgs, runs.length];
    for (const { count, indexes } of runs) args.push(count, indexes.length, ...indexes);
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
          try {
            decodeRuns(batch, runs, raw);
          } catch (err) {
            for (const pending of batch) pending.reject(err);
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

function sameIndexes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
        const emission = emissionMs(policy);
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
