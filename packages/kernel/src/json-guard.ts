import { BadRequestError } from './errors.ts';

/**
 * Checks a JSON text before it is parsed into objects the application trusts: nesting deeper than
 * `maxDepth` and duplicate keys in one object are refused (JSON.parse would silently keep the last
 * duplicate, so two parsers in a chain could disagree about the value) and so is an escaped NUL
 * (`\u0000`), which no PostgreSQL text column can store. SECURITY.md item 30.
 *
 * @example
 * assertSafeJson('{"a":1,"a":2}'); // throws BadRequestError('duplicate_key', ...)
 */
export function assertSafeJson(text: string, maxDepth = 32): void {
  const keyStack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const start = i + 1;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        if (text.charCodeAt(i) === 0x5c /* \ */) {
          // PostgreSQL text cannot hold U+0000; refuse it here rather than fail in the database.
          if (text.startsWith('u0000', i + 1))
            throw new BadRequestError('nul_character', 'JSON strings must not contain U+0000');
          i++;
        }
        i++;
      }
      if (expectKey) {
        const keys = keyStack[keyStack.length - 1];
        const raw = text.slice(start, i);
        const key = raw.includes('\\') ? safeUnescape(raw) : raw;
        if (keys) {
          if (keys.has(key))
            throw new BadRequestError('duplicate_key', `duplicate key "${key.slice(0, 64)}" in JSON body`);
          keys.add(key);
        }
        expectKey = false;
      }
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      keyStack.push(ch === 0x7b ? new Set() : null);
      if (keyStack.length > maxDepth)
        throw new BadRequestError('too_deep', `JSON body nests deeper than ${maxDepth} levels`);
      expectKey = ch === 0x7b;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      keyStack.pop();
      expectKey = false;
    } else if (ch === 0x2c /* , */) {
      expectKey = keyStack[keyStack.length - 1] instanceof Set;
    }
  }
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
