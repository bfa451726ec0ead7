import { describe, expect, it } from 'vitest';
import { parseBasic } from './client-auth.ts';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

describe('parseBasic (RFC 6749 §2.3.1: id and secret are form-urlencoded before base64)', () => {
  it('reads plain credentials as they are', () => {
    expect(parseBasic(basic('demo-service:s3cr3t_-.~'))).toEqual({
      clientId: 'demo-service',
      secret: 's3cr3t_-.~',
    });
  });

  it('decodes percent escapes and "+" in both parts', () => {
    expect(parseBasic(basic('my%20app:a%2Bb+c%3Ad'))).toEqual({ clientId: 'my app', secret: 'a+b c:d' });
    expect(parseBasic(basic('caf%C3%A9:x'))).toEqual({ clientId: 'café', secret: 'x' });
  });

  it('splits at the first colon: a colon in the secret is sent encoded or raw', () => {
    expect(parseBasic(basic('app:pa:ss'))).toEqual({ clientId: 'app', secret: 'pa:ss' });
  });

  it('refuses malformed credentials', () => {
    expect(parseBasic(basic('app%zz:secret'))).toBeUndefined();
    expect(parseBasic(basic('app:bad%E0%A4'))).toBeUndefined();
    expect(parseBasic(basic('app:'))).toBeUndefined();
    expect(parseBasic(basic(':secret'))).toBeUndefined();
    expect(parseBasic(basic('no-colon'))).toBeUndefined();
    expect(parseBasic('Basic !!!')).toBeUndefined();
    expect(parseBasic('Basic ')).toBeUndefined();
  });
});
