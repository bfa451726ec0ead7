import { afterEach, describe, expect, it } from 'vitest';
import {
  createInstance,
  pickInstance,
  recordFailure,
  recordSuccess,
  type BreakerOptions,
  type Instance,
  type UpstreamPool,
} from './pool.ts';

// Instances get an undici pool that connects lazily: nothing here touches the network.
const created: Instance[] = [];
const breaker: BreakerOptions = { failureThreshold: 3, openMs: 1_000 };

function poolOf(...urls: string[]): UpstreamPool {
  const blue = urls.map((url) => createInstance(url, 1));
  created.push(...blue);
  return { name: 'users', sets: { blue, green: [] }, active: 'blue', cursor: 0 };
}

function open(instance: Instance, at: number): void {
  for (let n = 0; n < breaker.failureThreshold; n++) recordFailure(instance, breaker, at);
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((i) => i.client.close()));
});

describe('circuit breaker state machine', () => {
  it('opens after the failure threshold in a row, and a success in between resets the count', () => {
    const pool = poolOf('http://127.0.0.1:1');
    const a = pool.sets.blue[0]!;
    recordFailure(a, breaker, 0);
    recordFailure(a, breaker, 0);
    expect(recordSuccess(a)).toBe(false);
    expect(a.consecutiveFailures).toBe(0);
    recordFailure(a, breaker, 10);
    recordFailure(a, breaker, 10);
    expect(a.circuit).toBe('closed');
    recordFailure(a, breaker, 10);
    expect(a.circuit).toBe('open');
    expect(a.openedAt).toBe(10);
  });

  it('skips an open instance during openMs, then lets exactly one probe through', () => {
    const pool = poolOf('http://127.0.0.1:1');
    const a = pool.sets.blue[0]!;
    open(a, 0);
    expect(pickInstance(pool, breaker, 999)).toBeUndefined();
    const probe = pickInstance(pool, breaker, 1_000);
    expect(probe).toBe(a);
    expect(a.circuit).toBe('half-open');
    expect(a.probing).toBe(true);
    // While the probe is out, nothing else gets through.
    for (let n = 0; n < 5; n++) expect(pickInstance(pool, breaker, 1_001 + n)).toBeUndefined();
  });

  it('closes the circuit when the probe succeeds and reports the change', () => {
    const pool = poolOf('http://127.0.0.1:1');
    const a = pool.sets.blue[0]!;
    open(a, 0);
    pickInstance(pool, breaker, 1_000);
    expect(recordSuccess(a)).toBe(true);
    expect(a.circuit).toBe('closed');
    expect(a.probing).toBe(false);
    expect(pickInstance(pool, breaker, 1_001)).toBe(a);
    expect(pickInstance(pool, breaker, 1_002)).toBe(a);
  });

  it('re-opens the circuit for another openMs when the probe fails', () => {
    const pool = poolOf('http://127.0.0.1:1');
    const a = pool.sets.blue[0]!;
    open(a, 0);
    pickInstance(pool, breaker, 1_000);
    recordFailure(a, breaker, 1_050);
    expect(a.circuit).toBe('open');
    expect(a.probing).toBe(false);
    expect(pickInstance(pool, breaker, 2_049)).toBeUndefined();
    expect(pickInstance(pool, breaker, 2_050)).toBe(a);
    expect(pickInstance(pool, breaker, 2_051)).toBeUndefined();
  });

  it('frees the probe slot after openMs when the probe never reports back', () => {
    const pool = poolOf('http://127.0.0.1:1');
    const a = pool.sets.blue[0]!;
    open(a, 0);
    expect(pickInstance(pool, breaker, 1_000)).toBe(a);
    expect(pickInstance(pool, breaker, 1_999)).toBeUndefined();
    expect(pickInstance(pool, breaker, 2_000)).toBe(a);
    expect(pickInstance(pool, breaker, 2_001)).toBeUndefined();
  });

  it('sends everything else to the other instances while one is open or probing', () => {
    const pool = poolOf('http://127.0.0.1:1', 'http://127.0.0.1:2');
    const [a, b] = pool.sets.blue as [Instance, Instance];
    open(a, 0);
    for (let n = 0; n < 4; n++) expect(pickInstance(pool, breaker, 500)).toBe(b);
    const picks = Array.from({ length: 6 }, () => pickInstance(pool, breaker, 1_000));
    expect(picks.filter((i) => i === a)).toHaveLength(1);
    expect(picks.filter((i) => i === b)).toHaveLength(5);
    // A retry that excludes the only healthy one finds nothing while the probe is out.
    expect(pickInstance(pool, breaker, 1_001, b)).toBeUndefined();
  });
});
