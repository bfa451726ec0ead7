import { BadRequestError } from './errors.ts';

/**
 * Checks a JSON text before it is parsed into objects the application trusts: nesting deeper than
 * `maxDepth` and duplicate keys in one object are refused (JSON.parse would silently keep the last
 * duplicate, so two parsers in a chain could disagree about the value), and so are an escaped NUL
 * (`\u0000`), which no PostgreSQL text column can store, and an escaped lone surrogate (`\ud800`
 * without its pair), which is no character at all: stored, it would come back as U+FFFD, so the
 * value read would not be the value written (RFC 8259 §8.2). SECURITY.md item 30.
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
          if (text.charCodeAt(i + 1) === 0x75 /* u */) i = checkUnicodeEscape(text, i);
          else i++;
        }
        i++;
      }
      if (expectKey) {
        const keys = keyStack[keyStack.length - 1];
        const raw = text.slice(start, i);
        const key = raw.includes('\\') ? safeUnescape(raw) : raw;
        // JSON.parse would make it the object's prototype: refused with a name for what is wrong.
        if (key === '__proto__')
          throw new BadRequestError('forbidden_key', 'the JSON key "__proto__" is not accepted');
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

const hexAt = (text: string, at: number): number =>
  /^[0-9a-fA-F]{4}$/.test(text.slice(at, at + 4)) ? Number.parseInt(text.slice(at, at + 4), 16) : -1;

/**
 * Checks the `\uXXXX` escape whose backslash is at `at`; returns the index of its last character
 * (of the second escape, for a surrogate pair). A malformed escape is left to JSON.parse.
 */
function checkUnicodeEscape(text: string, at: number): number {
  const code = hexAt(text, at + 2);
  if (code < 0) return at + 1;
  if (code === 0) throw new BadRequestError('nul_character', 'JSON strings must not contain U+0000');
  if (code < 0xd800 || code > 0xdfff) return at + 5;
  const low = text.startsWith('\\u', at + 6) ? hexAt(text, at + 8) : -1;
  if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) return at + 11;
  throw new BadRequestError(
    'invalid_unicode',
    'JSON strings must not contain a lone surrogate (\\ud800–\\udfff without its pair)',
  );
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
