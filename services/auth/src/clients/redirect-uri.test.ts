import { describe, expect, it } from 'vitest';
import { matchRedirectUri, redirectUriProblem } from './redirect-uri.ts';

const client = {
  redirectUris: [
    'https://app.example.com/callback',
    'http://127.0.0.1/native/cb',
    'http://[::1]:8000/cb?x=1',
    'com.example.app:/oauth',
    'http://localhost:5173/callback',
  ],
};

describe('matchRedirectUri', () => {
  it('accepts a registered URI compared as an exact string', () => {
    expect(matchRedirectUri(client, 'https://app.example.com/callback')).toBe(true);
  });

  it('refuses any variation of a registered URI: case, trailing slash, extra query, fragment, encoded path', () => {
    for (const uri of [
      'https://APP.example.com/callback',
      'https://app.example.com/callback/',
      'https://app.example.com/callback?next=evil',
      'https://app.example.com/callback#x',
      'https://app.example.com/%63allback',
      'https://app.example.com:443/callback',
    ]) {
      expect(matchRedirectUri(client, uri), uri).toBe(false);
    }
  });

  it('accepts an RFC 8252 loopback IP redirect registered without a port on any port, with the same path and query', () => {
    expect(matchRedirectUri(client, 'http://127.0.0.1:51234/native/cb')).toBe(true);
    expect(matchRedirectUri(client, 'http://127.0.0.1/native/cb')).toBe(true);
  });

  it('matches a loopback redirect registered with a port (a browser app) only on that port', () => {
    expect(matchRedirectUri(client, 'http://[::1]:8000/cb?x=1')).toBe(true);
    for (const uri of ['http://[::1]:9999/cb?x=1', 'http://[::1]/cb?x=1', 'http://[::1]:80/cb?x=1']) {
      expect(matchRedirectUri(client, uri), uri).toBe(false);
    }
  });

  it('refuses loopback redirects with another path, query, host or scheme', () => {
    for (const uri of [
      'http://127.0.0.1:51234/native/other',
      'http://[::1]:9999/cb?x=2',
      'http://127.0.0.2:51234/native/cb',
      'https://127.0.0.1:51234/native/cb',
    ]) {
      expect(matchRedirectUri(client, uri), uri).toBe(false);
    }
  });

  it('gives localhost no port exception', () => {
    expect(matchRedirectUri(client, 'http://localhost:5173/callback')).toBe(true);
    expect(matchRedirectUri(client, 'http://localhost:5174/callback')).toBe(false);
  });

  it('matches private-use scheme redirects exactly', () => {
    expect(matchRedirectUri(client, 'com.example.app:/oauth')).toBe(true);
    expect(matchRedirectUri(client, 'com.example.app:/oauth2')).toBe(false);
  });
});

describe('redirectUriProblem', () => {
  it('accepts https, loopback http, localhost and reverse-domain private-use schemes', () => {
    for (const uri of [
      'https://a.example/cb',
      'http://127.0.0.1/cb',
      'http://[::1]:80/cb',
      'http://localhost:5173/cb',
      'com.example.app:/cb',
    ]) {
      expect(redirectUriProblem(uri), uri).toBeUndefined();
    }
  });

  it('refuses fragments, plain http, dangerous schemes and relative URIs', () => {
    for (const uri of [
      'https://a.example/cb#x',
      'http://a.example/cb',
      'javascript:alert(1)',
      'data:text/html,x',
      '/cb',
      'myapp:/cb',
    ]) {
      expect(redirectUriProblem(uri), uri).toEqual(expect.any(String));
    }
  });

  it('refuses what would be sent back in Location unsafely or parsed by repair', () => {
    for (const uri of [
      'https://example.com/cb\n',
      'https://example.com/cb\r\nSet-Cookie: x=1',
      'https://example.com/c b',
      'https://example.com/cb\t',
      'https://example.com/\u0085',
      'https:\\\\evil.example/cb',
      'https:///cb',
      'https:cb.example/x',
    ]) {
      expect(redirectUriProblem(uri), JSON.stringify(uri)).toEqual(expect.any(String));
    }
    expect(redirectUriProblem('https://example.com/cb?x=%20y')).toBeUndefined();
  });

  it('refuses wildcard hosts, which exact matching would never honour', () => {
    for (const uri of ['https://*.example.com/cb', 'https://app.*/cb', 'https://%2A.example.com/cb']) {
      expect(redirectUriProblem(uri), uri).toMatch(/wildcards are not supported/);
    }
  });
});
