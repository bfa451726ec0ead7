import { describe, expect, it } from 'vitest';
import { forwardHeaders, responseHeaders } from './headers.ts';

const pairs = (list: unknown[]) => {
  const out: Array<[unknown, unknown]> = [];
  for (let i = 0; i < list.length; i += 2) out.push([list[i], list[i + 1]]);
  return out;
};
const header = (list: unknown[], name: string) => pairs(list).find(([n]) => n === name)?.[1];

describe('responseHeaders', () => {
  const edge = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
  };

  it("adds frame-ancestors 'none' to an upstream policy that does not say who may frame the page", () => {
    const out = responseHeaders(
      { 'content-type': 'text/html', 'content-security-policy': "default-src 'self';" },
      edge,
    );
    expect(header(out, 'content-security-policy')).toBe("default-src 'self'; frame-ancestors 'none'");
    const several = responseHeaders(
      { 'content-security-policy': ["default-src 'self'", 'img-src data:'] },
      edge,
    );
    expect(header(several, 'content-security-policy')).toEqual([
      "default-src 'self'",
      'img-src data:',
      "frame-ancestors 'none'",
    ]);
  });

  it("keeps an upstream policy's own frame-ancestors, and the edge policy when the upstream has none", () => {
    const own = responseHeaders(
      { 'content-security-policy': "default-src 'self'; frame-ancestors 'self'" },
      edge,
    );
    expect(header(own, 'content-security-policy')).toBe("default-src 'self'; frame-ancestors 'self'");
    const none = responseHeaders({ 'content-type': 'application/json' }, edge);
    expect(header(none, 'content-security-policy')).toBe(edge['content-security-policy']);
    expect(header(none, 'x-frame-options')).toBe('DENY');
  });

  it('drops hop-by-hop headers, Server and X-Powered-By', () => {
    const out = responseHeaders(
      {
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        server: 'x/1',
        'x-powered-by': 'y',
        etag: '"1"',
      },
      {},
    );
    expect(pairs(out)).toEqual([['etag', '"1"']]);
  });

  it('drops the fields the upstream names in Connection (RFC 9110 §7.6.1)', () => {
    const out = responseHeaders(
      { connection: 'close, X-Internal-Route', 'x-internal-route': 'pool-b', etag: '"1"' },
      {},
    );
    expect(pairs(out)).toEqual([['etag', '"1"']]);
  });
});

describe('forwardHeaders', () => {
  const ctx = {
    requestId: 'req-1',
    peerIp: '203.0.113.9',
    peerTrusted: false,
    proto: 'http' as const,
    host: 'id.example',
  };

  it('rebuilds X-Forwarded-* from the connection when the peer is not a trusted proxy', () => {
    const out = forwardHeaders(
      {
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil',
        'x-request-id': 'spoof',
      },
      ctx,
    );
    expect(header(out, 'x-forwarded-for')).toBe('203.0.113.9');
    expect(header(out, 'x-forwarded-proto')).toBe('http');
    expect(header(out, 'x-forwarded-host')).toBe('id.example');
    expect(header(out, 'x-request-id')).toBe('req-1');
  });

  it('drops Expect, which this hop answers, and the fields the client names in Connection', () => {
    const out = forwardHeaders(
      {
        expect: '100-continue',
        connection: 'keep-alive, X-Debug',
        'x-debug': '1',
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '3000',
      },
      ctx,
    );
    expect(header(out, 'expect')).toBeUndefined();
    expect(header(out, 'connection')).toBeUndefined();
    expect(header(out, 'x-debug')).toBeUndefined();
    expect(header(out, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(header(out, 'content-length')).toBe('3000');
    // What the edge sets itself cannot be removed that way.
    const named = forwardHeaders({ connection: 'x-request-id, x-forwarded-for' }, ctx);
    expect(header(named, 'x-request-id')).toBe('req-1');
    expect(header(named, 'x-forwarded-for')).toBe('203.0.113.9');
  });

  it('extends the chain of a trusted proxy', () => {
    const out = forwardHeaders(
      { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' },
      { ...ctx, peerTrusted: true },
    );
    expect(header(out, 'x-forwarded-for')).toBe('198.51.100.7, 203.0.113.9');
    expect(header(out, 'x-forwarded-proto')).toBe('https');
  });
});
