import { describe, expect, it } from 'vitest';
import { testClient } from '../../../flows/testing.ts';
import type { AuthorizeDraft } from '../context.ts';
import { AuthorizeError, AuthorizePageError } from '../errors.ts';
import { REQUEST_CHECKS, validateAuthorizationRequest } from '../pipeline.ts';
import { readAuthorizationParams } from '../params.ts';
import { checkClient } from './check-client.ts';
import { checkIdTokenHint } from './check-id-token-hint.ts';
import { checkPkce } from './check-pkce.ts';
import { checkPrompt } from './check-prompt.ts';
import { checkRedirectUri } from './check-redirect-uri.ts';
import { checkScope } from './check-scope.ts';

const client = testClient({
  clientId: 'app',
  redirectUris: ['https://app.example/cb', 'http://127.0.0.1/native'],
});
const clients = { find: (id: string) => Promise.resolve(id === 'app' ? client : undefined) };
const deps = { clients, jwks: () => Promise.resolve({ keys: [] }), issuer: 'https://id.example' };
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function draft(params: Record<string, string | string[]>): AuthorizeDraft {
  return { ...readAuthorizationParams(params), client };
}

describe('authorize checks, one rule each', () => {
  it('runs the client and redirect_uri checks before anything that could redirect', () => {
    expect(REQUEST_CHECKS.slice(0, 2)).toEqual([checkClient, checkRedirectUri]);
  });

  it('checkClient: an unknown client is an error page', async () => {
    await expect(checkClient(draft({ client_id: 'nope' }), deps)).rejects.toBeInstanceOf(AuthorizePageError);
    await expect(checkClient(draft({ client_id: ['app', 'app'] }), deps)).rejects.toBeInstanceOf(
      AuthorizePageError,
    );
  });

  it('checkRedirectUri: exact match, or loopback IP on any port with the same path and query', () => {
    const native = testClient({
      clientId: 'native',
      redirectUris: ['https://app.example/cb', 'http://127.0.0.1/native', 'http://[::1]/native?x=1'],
    });
    const accepts = (uri: string) => {
      const d: AuthorizeDraft = { ...readAuthorizationParams({ redirect_uri: uri }), client: native };
      try {
        void checkRedirectUri(d, deps);
        return d.redirectUri === uri;
      } catch (err) {
        expect(err).toBeInstanceOf(AuthorizePageError);
        return false;
      }
    };
    expect(accepts('https://app.example/cb')).toBe(true);
    expect(accepts('https://app.example/cb/')).toBe(false);
    expect(accepts('https://APP.example/cb')).toBe(false);
    expect(accepts('https://app.example:443/cb')).toBe(false);
    expect(accepts('http://127.0.0.1:61000/native')).toBe(true);
    expect(accepts('http://127.0.0.1:99999/native')).toBe(false);
    expect(accepts('http://127.0.0.1:61000/native/../native')).toBe(false);
    expect(accepts('http://[::1]:8080/native?x=1')).toBe(true);
    expect(accepts('http://[::1]:8080/native?x=2')).toBe(false);
    expect(accepts('http://localhost:61000/native')).toBe(false);
    expect(accepts('http://127.0.0.1:61000@evil.example/native')).toBe(false);
  });

  it('checkPkce: S256 with a 43-128 character base64url challenge only', () => {
    expect(() =>
      checkPkce(draft({ code_challenge: CHALLENGE, code_challenge_method: 'S256' }), deps),
    ).not.toThrow();
    const refused: Array<Record<string, string>> = [
      { code_challenge: CHALLENGE, code_challenge_method: 'plain' },
      { code_challenge: CHALLENGE },
      { code_challenge_method: 'S256' },
      { code_challenge: CHALLENGE.slice(1), code_challenge_method: 'S256' },
      { code_challenge: `${CHALLENGE.slice(1)}/`, code_challenge_method: 'S256' },
    ];
    for (const params of refused) {
      expect(() => checkPkce(draft(params), deps)).toThrow(AuthorizeError);
    }
  });

  it('checkScope: a subset of the client’s scopes, deduplicated', () => {
    const ok = draft({ scope: 'openid  email openid' });
    void checkScope(ok, deps);
    expect(ok.scopes).toEqual(['openid', 'email']);
    // Known here but not the client's: refused. Not understood here at all: set aside (OIDC Core §3.1.2.1).
    expect(() => checkScope(draft({ scope: 'openid orgs:write' }), deps)).toThrow(/may not request/);
    const unknown = draft({ scope: 'openid root address' });
    void checkScope(unknown, deps);
    expect(unknown.scopes).toEqual(['openid']);
    expect(() => checkScope(draft({ scope: 'root address' }), deps)).toThrow(/none of the requested/);
    expect(() => checkScope(draft({ scope: 'open"id' }), deps)).toThrow(AuthorizeError);
  });

  it('checkPrompt: none, login, consent; none alone', () => {
    const d = draft({ prompt: 'login consent' });
    void checkPrompt(d, deps);
    expect([...(d.prompt ?? [])]).toEqual(['login', 'consent']);
    expect(() => checkPrompt(draft({ prompt: 'none consent' }), deps)).toThrow(AuthorizeError);
  });

  it('checkIdTokenHint: an empty hint is omitted; an oversized one is refused before any crypto', async () => {
    const noKeys = {
      ...deps,
      jwks: () => Promise.reject(new Error('the key set must not be read')),
    };
    const empty = draft({ id_token_hint: '' });
    await checkIdTokenHint(empty, noKeys);
    expect(empty.hintedSubject).toBeUndefined();
    await expect(
      checkIdTokenHint(draft({ id_token_hint: 'a'.repeat(8 * 1024 + 1) }), noKeys),
    ).rejects.toThrow(/too long/);
    await expect(checkIdTokenHint(draft({ id_token_hint: 'garbage.x.y' }), deps)).rejects.toBeInstanceOf(
      AuthorizeError,
    );
  });

  it('validates a complete request in order and returns it typed', async () => {
    const request = await validateAuthorizationRequest(
      readAuthorizationParams({
        response_type: 'code',
        client_id: 'app',
        redirect_uri: 'https://app.example/cb',
        scope: 'openid',
        state: 's',
        code_challenge: CHALLENGE,
        code_challenge_method: 'S256',
        extra: 'ignored',
      }),
      deps,
    );
    expect(request).toMatchObject({
      redirectUri: 'https://app.example/cb',
      redirectUriProvided: true,
      scopes: ['openid'],
      state: 's',
    });
  });
});
