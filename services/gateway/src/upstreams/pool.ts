import { Pool as UndiciPool } from 'undici';

/** Circuit states: closed (normal), open (skipped until the cool-down ends), half-open (one probe). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One upstream instance with its connection pool, health and circuit breaker. */
export interface Instance {
  url: string;
  origin: string;
  client: UndiciPool;
  /** Result of the last active health check (/readyz). */
  healthy: boolean;
  circuit: CircuitState;
  consecutiveFailures: number;
  openedAt: number;
  /** Half-open and a probe request is out: no other request is let through until it reports back. */
  probing: boolean;
  /** When the current probe was let through (a probe that never reports back expires after `openMs`). */
  probeStartedAt: number;
}

/** Which set of a pool receives traffic. */
export type Color = 'blue' | 'green';

/** A named pool: a blue set and an optional green set of instances; one is active. */
export interface UpstreamPool {
  name: string;
  sets: Record<Color, Instance[]>;
  active: Color;
  cursor: number;
}

/** Breaker thresholds. */
export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
}

/**
 * Creates an instance (keep-alive connection pool to its origin).
 *
 * @example
 * const instance = createInstance('http://127.0.0.1:8082');
 */
export function createInstance(url: string, connections = 128): Instance {
  const origin = new URL(url).origin;
  return {
    url,
    origin,
    client: new UndiciPool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 }),
    healthy: true,
    circuit: 'closed',
    consecutiveFailures: 0,
    openedAt: 0,
    probing: false,
    probeStartedAt: 0,
  };
}

/**
 * Round-robin over the active set's usable instances: healthy, and circuit closed, or open long
 * enough (`openMs`) to let exactly one probe request through (the circuit turns half-open and
 * `probing`; every other pick skips the instance until the probe reports back through
 * {@link recordSuccess} or {@link recordFailure}). A probe that never reports back (a timeout, a
 * client that went away) frees its slot after another `openMs`. `exclude` skips an instance that
 * just failed.
 *
 * @example
 * const target = pickInstance(pool, breaker, Date.now());
 */
export function pickInstance(
  pool: UpstreamPool,
  breaker: BreakerOptions,
  now: number,
  exclude?: Instance,
): Instance | undefined {
  const set = pool.sets[pool.active];
  for (let i = 0; i < set.length; i++) {
    pool.cursor = (pool.cursor + 1) % set.length;
    const candidate = set[pool.cursor]!;
    if (candidate === exclude || !candidate.healthy) continue;
    if (candidate.circuit === 'closed') return candidate;
    if (candidate.circuit === 'open') {
      if (now - candidate.openedAt < breaker.openMs) continue;
      candidate.circuit = 'half-open';
    } else if (candidate.probing && now - candidate.probeStartedAt < breaker.openMs) continue;
    candidate.probing = true;
    candidate.probeStartedAt = now;
    return candidate;
  }
  return undefined;
}

/**
 * Records a connection-level failure (passive ejection): after `failureThreshold` in a row, or
 * any failure while half-open (the probe failed), the circuit opens for `openMs`.
 */
export function recordFailure(instance: Instance, breaker: BreakerOptions, now: number): void {
  instance.consecutiveFailures++;
  if (instance.circuit === 'half-open' || instance.consecutiveFailures >= breaker.failureThreshold) {
    instance.circuit = 'open';
    instance.openedAt = now;
    instance.probing = false;
  }
}

/**
 * Records a success: the circuit closes. Returns whether the circuit state changed (the caller
 * then updates the circuit gauge).
 */
export function recordSuccess(instance: Instance): boolean {
  if (instance.circuit === 'closed') {
    if (instance.consecutiveFailures !== 0) instance.consecutiveFailures = 0;
    return false;
  }
  instance.consecutiveFailures = 0;
  instance.circuit = 'closed';
  instance.probing = false;
  return true;
}

/**
 * Probes `/readyz` of one instance (bounded by `timeoutMs`); 200 = healthy.
 *
 * @example
 * instance.healthy = await probe(instance, 1000);
 */
export async function probe(instance: Instance, timeoutMs: number): Promise<boolean> {
  try {
    const res = await instance.client.request({
      method: 'GET',
      path: '/readyz',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}
