import { describe, expect, it } from 'vitest';
import { createLocalJWKSet } from 'jose';
import { createTokenVerifier } from './verifier.ts';
import type { TokenVerifierOptions } from './options.ts';

const base: TokenVerifierOptions = {
  jwksUrl: 'https://id.example.com/jwks.json',
  issuer: 'https://id.example.com',
  audience: 'tessera-api',
};
const build = (overrides: Record<string, unknown>) => () => createTokenVerifier({ ...base, ...overrides });

describe('createTokenVerifier options', () => {
  it('builds with only jwksUrl, issuer and audience, fetching nothing yet', () => {
    expect(typeof createTokenVerifier(base).verify).toBe('function');
  });

  it('refuses none and any HS* algorithm with a TypeError', () => {
    for (const alg of ['none', 'None', 'HS256', 'HS384', 'HS512', 'hs256']) {
      expect(build({ algorithms: ['ES256', alg] })).toThrow(TypeError);
      expect(build({ algorithms: ['ES256', alg] })).toThrow(/must never be accepted/);
    }
  });

  it('refuses an unknown or empty algorithm list', () => {
    expect(build({ algorithms: ['RSA-OAEP'] })).toThrow(/unknown algorithm/);
    expect(build({ algorithms: [] })).toThrow(TypeError);
  });

  it('refuses a clock tolerance above 60 s, below 0 or not a number', () => {
    for (const clockToleranceSec of [61, -1, Number.NaN, '30'])
      expect(build({ clockToleranceSec })).toThrow(TypeError);
    expect(build({ clockToleranceSec: 60 })).not.toThrow();
    expect(build({ clockToleranceSec: 0 })).not.toThrow();
  });

  it('requires exactly one of jwksUrl and keys', () => {
    const keys = createLocalJWKSet({ keys: [] });
    expect(build({ keys })).toThrow(/exactly one of jwksUrl or keys/);
    expect(build({ jwksUrl: undefined })).toThrow(/exactly one of jwksUrl or keys/);
    expect(build({ jwksUrl: undefined, keys })).not.toThrow();
  });

  it('refuses a jwksUrl that is not an absolute http(s) URL', () => {
    for (const jwksUrl of ['/jwks.json', 'file:///etc/passwd', 'not a url'])
      expect(build({ jwksUrl })).toThrow(/jwksUrl/);
    expect(build({ jwksUrl: new URL('http://127.0.0.1:8081/jwks.json') })).not.toThrow();
  });

  it('refuses an empty issuer or audience', () => {
    expect(build({ issuer: '' })).toThrow(/issuer/);
    for (const audience of ['', [], [''], undefined]) expect(build({ audience })).toThrow(/audience/);
  });

  it('refuses nonsensical sizes, cache bounds and JWKS timings', () => {
    expect(build({ maxTokenBytes: 0 })).toThrow(/maxTokenBytes/);
    expect(build({ cache: { max: -1 } })).toThrow(/cache.max/);
    expect(build({ jwks: { cooldownSec: 0 } })).toThrow(/cooldownSec/);
    expect(build({ jwks: { cooldownSec: 60, maxAgeSec: 30 } })).toThrow(/maxAgeSec/);
    expect(build({ jwks: { timeoutMs: 0 } })).toThrow(/timeoutMs/);
  });

  it('refuses hooks that are not functions', () => {
    expect(build({ isRevoked: true })).toThrow(/isRevoked/);
    expect(build({ now: 5 })).toThrow(/now/);
  });
});
