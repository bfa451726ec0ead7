import { describe, expect, it } from 'vitest';
import { uuidv7 } from './ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has the version 7 and RFC 9562 variant bits and carries the given millisecond', () => {
    const now = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(now);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts in creation order within one millisecond (ids made in a tight loop)', () => {
    const now = Date.now();
    const sameMs = Array.from({ length: 5_000 }, () => uuidv7(now));
    expect(new Set(sameMs).size).toBe(sameMs.length);
    expect([...sameMs].sort()).toEqual(sameMs);
    for (const id of sameMs) expect(id).toMatch(UUID_V7);
    const realClock = Array.from({ length: 5_000 }, () => uuidv7());
    expect([...realClock].sort()).toEqual(realClock);
  });

  it('sorts by time across milliseconds', () => {
    const ids = [uuidv7(1_000), uuidv7(1_001), uuidv7(1_001), uuidv7(2_000)];
    expect([...ids].reverse().sort()).toEqual(ids);
  });
});
