import { describe, expect, it } from 'vitest';
import { TokenError } from './errors.ts';

describe('TokenError', () => {
  it('builds a bare challenge when no token was sent (RFC 6750 §3.1)', () => {
    expect(new TokenError('missing_token', 'an access token is required').wwwAuthenticate()).toBe(
      'Bearer realm="tessera"',
    );
  });

  it('builds a challenge with error and error_description for an invalid token', () => {
    expect(new TokenError('invalid_token', 'the token has expired').wwwAuthenticate('orders')).toBe(
      'Bearer realm="orders", error="invalid_token", error_description="the token has expired"',
    );
  });

  it('adds the required scope to an insufficient_scope challenge', () => {
    const err = new TokenError('insufficient_scope', 'the token lacks the scope b', { requiredScope: 'a b' });
    expect(err.wwwAuthenticate()).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="the token lacks the scope b", scope="a b"',
    );
  });

  it('builds no challenge when the keys were unavailable, which is no authentication failure', () => {
    expect(
      new TokenError('temporarily_unavailable', 'the issuer keys are unavailable').wwwAuthenticate(),
    ).toBeUndefined();
  });

  it('strips quotes, backslashes and control characters from challenge values', () => {
    const err = new TokenError('invalid_token', 'a"b\\c\r\nSet-Cookie: x', { requiredScope: 'x"y' });
    expect(err.wwwAuthenticate('re"alm')).toBe(
      'Bearer realm="realm", error="invalid_token", error_description="abcSet-Cookie: x", scope="xy"',
    );
  });

  it('maps each code to its status and an RFC 9457 problem document', () => {
    const cases = [
      ['invalid_request', 400, 'Bad Request'],
      ['missing_token', 401, 'Unauthorized'],
      ['invalid_token', 401, 'Unauthorized'],
      ['insufficient_scope', 403, 'Forbidden'],
      ['temporarily_unavailable', 503, 'Service Unavailable'],
    ] as const;
    for (const [code, status, title] of cases) {
      const err = new TokenError(code, 'why');
      expect(err.status).toBe(status);
      expect(err.toProblem()).toEqual({
        type: `https://tessera.dev/problems/${code.replaceAll('_', '-')}`,
        title,
        status,
        detail: 'why',
        code,
      });
    }
  });
});
