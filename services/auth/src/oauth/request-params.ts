/**
 * The values of one parsed parameter (a string, or an array when the name was repeated) without
 * the blank ones, which RFC 6749 §3.1 treats as omitted.
 *
 * @example
 * nonBlankValues(['a', '']) // ['a']
 */
export function nonBlankValues(raw: unknown): string[] {
  return (Array.isArray(raw) ? raw : [raw]).filter(
    (value): value is string => typeof value === 'string' && value !== '',
  );
}

/**
 * Reads single-valued request parameters from a parsed query string or form body, where a
 * repeated name arrives as an array. RFC 6749 §3.1: "Parameters sent without a value MUST be
 * treated as if they were omitted from the request" and parameters "MUST NOT be included more
 * than once" — so empty values are dropped first, and a name counts as repeated only when it
 * carries two or more values.
 *
 * @example
 * readSingleParams({ state: ['s', ''], scope: ['a', 'b'], max_age: '' }, ['state', 'scope', 'max_age'])
 * // { params: { state: 's' }, repeated: ['scope'] }
 */
export function readSingleParams<N extends string>(
  input: unknown,
  names: readonly N[],
): { params: Partial<Record<N, string>>; repeated: N[] } {
  const source = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const params: Partial<Record<N, string>> = {};
  const repeated: N[] = [];
  for (const name of names) {
    const values = nonBlankValues(Object.hasOwn(source, name) ? source[name] : undefined);
    if (values.length === 1) params[name] = values[0]!;
    else if (values.length > 1) repeated.push(name);
  }
  return { params, repeated };
}
