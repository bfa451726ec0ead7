import { describe, expect, it } from 'vitest';
import { RevokedTokenSet } from './revoked-set.ts';

const T0 = 1_700_000_000_000;
const sec = (ms: number) => Math.floor(ms / 1000);

function clockedSet(options: { max?: number; graceSec?: number; onEvict?: (jti: string) => void } = {}) {
  let now = T0;
  const set = new RevokedTokenSet({ ...options, now: () => now });
  return { set, advance: (ms: number) => void (now += ms) };
}

describe('RevokedTokenSet', () => {
  it('holds a revoked jti until exp plus the grace period, then forgets it', () => {
    const { set, advance } = clockedSet({ graceSec: 60 });
    set.add('a', sec(T0) + 600);
    expect(set.has('a')).toBe(true);
    expect(set.has('b')).toBe(false);
    advance(600_000 + 59_000);
    expect(set.has('a')).toBe(true);
    advance(1_000);
    expect(set.has('a')).toBe(false);
    expect(set.size).toBe(0);
  });

  it('ignores a revocation whose token is already past exp plus grace', () => {
    const { set } = clockedSet({ graceSec: 60 });
    set.add('old', sec(T0) - 61);
    expect(set.has('old')).toBe(false);
    expect(set.size).toBe(0);
  });

  it('keeps the later exp when a jti is added twice', () => {
    const { set, advance } = clockedSet({ graceSec: 0 });
    set.add('a', sec(T0) + 100);
    set.add('a', sec(T0) + 10);
    advance(50_000);
    expect(set.has('a')).toBe(true);
  });

  it('prunes expired entries and reports how many', () => {
    const { set, advance } = clockedSet({ graceSec: 0 });
    set.add('short', sec(T0) + 10);
    set.add('long', sec(T0) + 1000);
    advance(20_000);
    expect(set.prune()).toBe(1);
    expect(set.size).toBe(1);
    expect(set.has('long')).toBe(true);
  });

  it('stays within its bound: expired entries go first, then the oldest added', () => {
    const evicted: string[] = [];
    const { set, advance } = clockedSet({ max: 3, graceSec: 0, onEvict: (jti) => evicted.push(jti) });
    set.add('expiring', sec(T0) + 1);
    set.add('a', sec(T0) + 100);
    set.add('b', sec(T0) + 100);
    advance(2_000);
    set.add('c', sec(T0) + 100);
    expect(evicted).toEqual([]);
    expect(set.size).toBe(3);
    set.add('d', sec(T0) + 100);
    expect(evicted).toEqual(['a']);
    expect(set.size).toBe(3);
    expect([set.has('a'), set.has('b'), set.has('c'), set.has('d')]).toEqual([false, true, true, true]);
  });

  it('refuses a bound or grace that would break it', () => {
    expect(() => new RevokedTokenSet({ max: 0 })).toThrow(TypeError);
    expect(() => new RevokedTokenSet({ graceSec: -1 })).toThrow(TypeError);
  });
});
