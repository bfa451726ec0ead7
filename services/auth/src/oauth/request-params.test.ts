import { describe, expect, it } from 'vitest';
import { readSingleParams } from './request-params.ts';

describe('readSingleParams', () => {
  const names = ['state', 'scope', 'max_age', 'nonce'] as const;

  it('drops blank values and reports only names with two or more values', () => {
    expect(readSingleParams({ state: ['s', ''], scope: ['a', 'b'], max_age: '', nonce: 'n' }, names)).toEqual(
      {
        params: { state: 's', nonce: 'n' },
        repeated: ['scope'],
      },
    );
  });

  it('ignores names it was not asked for and values that are not strings', () => {
    expect(readSingleParams({ other: 'x', state: { nested: 1 } }, names)).toEqual({
      params: {},
      repeated: [],
    });
    expect(readSingleParams(undefined, names)).toEqual({ params: {}, repeated: [] });
  });
});
