import { describe, expect, it } from 'vitest';
import { extractBearer, extractBearerFromRequest } from './bearer.ts';

describe('extractBearer', () => {
  it('returns the token after the Bearer scheme, matched case-insensitively', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR'])
      expect(extractBearer(`${scheme} abc.def-_~+/=`)).toBe('abc.def-_~+/=');
  });

  it('tolerates several spaces after the scheme and trailing spaces', () => {
    expect(extractBearer('Bearer   abc  ')).toBe('abc');
  });

  it('returns undefined without a header or for another scheme', () => {
    expect(extractBearer(undefined)).toBeUndefined();
    expect(extractBearer('')).toBeUndefined();
    expect(extractBearer('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(extractBearer('Bearerabc')).toBeUndefined();
    expect(extractBearer('DPoP abc')).toBeUndefined();
  });

  it('throws invalid_request (400) for malformed Bearer credentials', () => {
    for (const header of [
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a,b',
      'Bearer "abc"',
      'Bearer =abc',
      'Bearer\tabc',
    ]) {
      expect(() => extractBearer(header), header).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400 }),
      );
    }
  });

  it('throws invalid_request (400) for more than one Authorization header', () => {
    expect(() => extractBearer(['Bearer a', 'Bearer b'])).toThrow(
      expect.objectContaining({ code: 'invalid_request', message: 'more than one authorization header' }),
    );
    expect(extractBearer(['Bearer a'])).toBe('a');
  });
});

describe('extractBearerFromRequest', () => {
  it('sees every Authorization header through headersDistinct, which headers.authorization hides', () => {
    const request = {
      headers: { authorization: 'Bearer a' },
      headersDistinct: { authorization: ['Bearer a', 'Bearer b'] },
    };
    expect(() => extractBearerFromRequest(request)).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('falls back to headers.authorization and ignores everything else, like an access_token parameter', () => {
    expect(extractBearerFromRequest({ headers: { authorization: 'Bearer a' } })).toBe('a');
    const request = { headers: { host: 'x' }, url: '/?access_token=abc', query: { access_token: 'abc' } };
    expect(extractBearerFromRequest(request)).toBeUndefined();
  });
});
