import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('createLogger', () => {
  it('redacts authorization, cookies, passwords, tokens and secrets at any usual depth', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write: (c: Buffer, _e, cb) => {
        lines.push(c.toString());
        cb();
      },
    });
    const log = createLogger({ name: 't', destination });
    log.info(
      {
        password: 'hunter2hunter2',
        req: { headers: { authorization: 'Bearer eyJhbGciOi.secret', cookie: 'sid=abc' } },
        body: { client_secret: 'cs-123', refresh_token: 'rt-456', nested: { access_token: 'at-789' } },
        token: 'tok-000',
        email: 'kept@example.com',
      },
      'login attempt',
    );
    const text = lines.join('');
    for (const secret of [
      'hunter2hunter2',
      'eyJhbGciOi',
      'sid=abc',
      'cs-123',
      'rt-456',
      'at-789',
      'tok-000',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('kept@example.com');
  });
});
