import { describe, expect, it } from 'vitest';
import { apiSecurityHeaders } from './security-headers.ts';

describe('apiSecurityHeaders', () => {
  it('is the JSON API set: renders nothing, framed nowhere, no sniffing, no referrer', () => {
    expect(apiSecurityHeaders({ hsts: false })).toEqual({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-site',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });

  it('adds HSTS only behind HTTPS', () => {
    expect(apiSecurityHeaders({ hsts: true })['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(apiSecurityHeaders({ hsts: false })).not.toHaveProperty('strict-transport-security');
  });

  it('cannot be changed by a caller', () => {
    const headers = apiSecurityHeaders({ hsts: false }) as Record<string, string>;
    expect(() => {
      headers['x-frame-options'] = 'SAMEORIGIN';
    }).toThrow(TypeError);
  });
});
