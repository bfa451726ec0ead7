import { describe, expect, it } from 'vitest';
import { KeyedBatcher, SerialBatcher } from './batcher.ts';

describe('KeyedBatcher', () => {
  it('answers the keys asked in one loop turn with one call, duplicates included', async () => {
    const calls: string[][] = [];
    const batcher = new KeyedBatcher(async (keys: string[]) => {
      calls.push(keys);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()]));
    });
    const results = await Promise.all(['a', 'b', 'a', 'missing'].map((k) => batcher.load(k)));
    expect(results).toEqual(['A', 'B', 'A', undefined]);
    expect(calls).toEqual([['a', 'b', 'missing']]);
  });

  it('rejects every waiter of a failed batch, including a synchronous throw', async () => {
    const batcher = new KeyedBatcher<string, string>(() => {
      throw new Error('down');
    });
    const results = await Promise.allSettled([batcher.load('a'), batcher.load('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('SerialBatcher', () => {
  it('runs one batch at a time and never puts two items with the same key in one batch', async () => {
    const batches: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const batcher = new SerialBatcher(async (items: string[]) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return items.map((item) => `${item}!`);
    });
    const submitted = ['a1', 'b1', 'a2', 'c1', 'a3'].map((item) => batcher.submit(item, item.slice(0, 1)));
    expect(await Promise.all(submitted)).toEqual(['a1!', 'b1!', 'a2!', 'c1!', 'a3!']);
    expect(maxInFlight).toBe(1);
    expect(batches).toEqual([['a1', 'b1', 'c1'], ['a2'], ['a3']]);
  });

  it('fails only the batch that failed', async () => {
    let calls = 0;
    const batcher = new SerialBatcher(async (items: string[]) => {
      calls++;
      if (calls === 1) throw new Error('first batch fails');
      return items;
    });
    const first = batcher.submit('x', 'k');
    const second = batcher.submit('y', 'k');
    await expect(first).rejects.toThrow('first batch fails');
    expect(await second).toBe('y');
  });
});
