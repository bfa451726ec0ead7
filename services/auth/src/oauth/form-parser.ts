import { parse } from 'fast-querystring';
import { BadRequestError } from '@tessera/kernel';

/**
 * The `application/x-www-form-urlencoded` parser of every form route (token, revoke, introspect,
 * login, consent, logout), for `@fastify/formbody`'s `parser` option. A NUL character — `%00` or
 * a raw byte — is refused (400 `invalid_request`): PostgreSQL text cannot store it, so a client id
 * or token holding one would otherwise fail inside the database lookup as a 500.
 *
 * @example
 * await app.register(formbody, { parser: parseForm });
 */
export function parseForm(text: string): Record<string, string | string[]> {
  if (text.includes('%00') || text.includes('\0')) {
    throw new BadRequestError('invalid_request', 'form values must not contain a NUL character');
  }
  // fast-querystring: the same decoding as node:querystring (`+` is a space, bad escapes kept
  // as written), into an object without a prototype, so `__proto__` is just a name.
  return parse(text) as Record<string, string | string[]>;
}
