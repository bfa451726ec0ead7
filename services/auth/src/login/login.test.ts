import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { rawQuery } from '@tessera/db';
import { sha256 } from '../flows/crypto.ts';
import { csrfOf, startFlowServer, testClient, type FlowServer } from '../flows/testing.ts';
import {
  authorizeParams,
  authorizeWithLogin,
  browser,
  tokens,
  redeem,
  type Browser,
  type Response,
} from '../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer({
    config: { loginGuard: { accountDelayAfter: 2, accountLockAfter: 4, ipLockAfter: 1000 } },
  });
});
afterAll(() => server.close());

async function newAccount() {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  return { clientId, email, user };
}

async function sessionCount(): Promise<number> {
  const [row] = await rawQuery<{ n: string }>(server.conn, 'select count(*) as n from auth.sessions');
  return Number(row?.n);
}

function sessionCookie(response: Response): string | undefined {
  const cookies = response.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = cookies?.find((c) => c.startsWith('tessera_session='));
  return cookie?.split(';')[0]?.split('=')[1];
}

/** Opens the login page of a fresh authorization request; returns the agent, page, CSRF and interaction. */
async function openLogin(
  clientId: string,
): Promise<{ agent: Browser; csrf: string; interaction: string; page: Response }> {
  const agent = browser(server);
  const start = await agent.get('/oauth2/authorize').query(authorizeParams(clientId).query);
  const page = await agent.get(start.headers.location as string);
  const interaction =
    new URL(start.headers.location as string, server.url).searchParams.get('interaction') ?? '';
  return { agent, csrf: csrfOf(page.text), interaction, page };
}

/** The page body without what legitimately differs between two attempts (the echoed email). */
function normalised(response: Response, email: string): string {
  return response.text.replaceAll(email, 'EMAIL').replace(/nonce="[^"]+"/, '');
}

describe('the login page', () => {
  it('is served with a nonce-based CSP, frame-ancestors none, no-store and no external assets', async () => {
    const { clientId } = await newAccount();
    const { page } = await openLogin(clientId);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = page.headers['content-security-policy'] as string;
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain(`<style nonce="${nonce}">`);
    expect(page.text).not.toMatch(/<script/);
    expect(page.text).not.toMatch(/(src|href)="https?:/);
    expect(page.text).toMatch(/<label for="email">Email<\/label>/);
    expect(page.text).toMatch(/<label for="password">Password<\/label>/);
    expect(page.text).toContain('<html lang="en">');
  });

  it('sets an HttpOnly SameSite=Lax session cookie without Secure on an http issuer', async () => {
    const res = await browser(server).get('/login');
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0] ?? '';
    expect(cookie).toMatch(/^tessera_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
  });

  it('shows who is signed in to a browser with a session and nothing pending', async () => {
    const { clientId, email } = await newAccount();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    const res = await agent.get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`signed in as <strong>${email}</strong>`);
  });

  it('escapes what it echoes', async () => {
    const { clientId } = await newAccount();
    const { agent, csrf, interaction } = await openLogin(clientId);
    const res = await agent
      .post('/login')
      .type('form')
      .send({ csrf, interaction, email: '"><script>alert(1)</script>', password: 'x' });
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).toContain('&quot;&gt;&lt;script&gt;');
  });
});

describe('refusals on the pages', () => {
  it('shows a browser a page for a malformed page request, and an API client a problem document', async () => {
    const tooLong = `/login?interaction=${'a'.repeat(65)}`;
    const page = await browser(server).get(tooLong).set('accept', 'text/html,application/xhtml+xml');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.text).toContain('interaction must NOT have more than 64 characters');
    const nul = await browser(server)
      .get('/oauth2/authorize?client_id=a%00b&response_type=code')
      .set('accept', 'text/html');
    expect(nul.status).toBe(400);
    expect(nul.headers['content-type']).toMatch(/^text\/html/);
    expect(nul.text).toContain('NUL character');
    expect(nul.text).toContain('<h1>Request refused</h1>');
    expect(nul.text).toContain('<p>Return to the application and start again.');
    const form = await browser(server)
      .post('/login')
      .set('accept', 'text/html')
      .type('form')
      .send({ interaction: 'x', email: 'a@example.com', password: 'p'.repeat(5_000), csrf: 'c' });
    expect(form.status).toBe(400);
    expect(form.headers['content-type']).toMatch(/^text\/html/);
    const api = await browser(server).get(tooLong).set('accept', 'application/json');
    expect(api.status).toBe(400);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.body.code).toBe('validation_failed');
  });
});

describe('POST /login: CSRF and Origin', () => {
  it('refuses a post without a CSRF token with 403 and changes nothing', async () => {
    const { clientId, email } = await newAccount();
    const { agent, interaction } = await openLogin(clientId);
    const before = { sessions: await sessionCount(), verifications: server.users.verifications };
    const res = await agent.post('/login').type('form').send({ interaction, email, password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Request refused');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
    expect(await sessionCount()).toBe(before.sessions);
    expect(server.users.verifications).toBe(before.verifications);
  });

  it('refuses the CSRF token of another session with 403', async () => {
    const { clientId, email } = await newAccount();
    const mine = await openLogin(clientId);
    const theirs = await openLogin(clientId);
    const before = server.users.verifications;
    const res = await mine.agent
      .post('/login')
      .type('form')
      .send({ csrf: theirs.csrf, interaction: mine.interaction, email, password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(server.users.verifications).toBe(before);
  });

  it('refuses a post without a session cookie with 403', async () => {
    const { clientId, email } = await newAccount();
    const { csrf, interaction } = await openLogin(clientId);
    const res = await browser(server)
      .post('/login')
      .type('form')
      .send({ csrf, interaction, email, password: PASSWORD });
    expect(res.status).toBe(403);
  });

  it('refuses a post from a foreign Origin even with a valid CSRF token', async () => {
    const { clientId, email } = await newAccount();
    const before = server.users.verifications;
    for (const origin of ['https://evil.example', 'null', server.url.replace('127.0.0.1', 'localhost')]) {
      const { agent, csrf, interaction } = await openLogin(clientId);
      const res = await agent
        .post('/login')
        .set('origin', origin)
        .type('form')
        .send({ csrf, interaction, email, password: PASSWORD });
      expect(res.status).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const { agent, csrf, interaction } = await openLogin(clientId);
    const crossSite = await agent
      .post('/login')
      .set('origin', 'null')
      .set('sec-fetch-site', 'cross-site')
      .type('form')
      .send({ csrf, interaction, email, password: PASSWORD });
    expect(crossSite.status).toBe(403);
    expect(server.users.verifications).toBe(before);
  });

  it('accepts the opaque Origin browsers send under no-referrer when Fetch Metadata says same-origin', async () => {
    const { clientId, email } = await newAccount();
    const { agent, csrf, interaction } = await openLogin(clientId);
    const res = await agent
      .post('/login')
      .set('origin', 'null')
      .set('sec-fetch-site', 'same-origin')
      .type('form')
      .send({ csrf, interaction, email, password: PASSWORD });
    expect(res.status).toBe(303);
  });

  it('accepts a post from its own Origin and answers 303, never 307', async () => {
    const { clientId, email } = await newAccount();
    const { agent, csrf, interaction } = await openLogin(clientId);
    const res = await agent
      .post('/login')
      .set('origin', server.url)
      .type('form')
      .send({ csrf, interaction, email, password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/oauth2/authorize/resume?interaction=${interaction}`);
  });
});

describe('POST /login: sessions', () => {
  it('rotates the session at login: the pre-login cookie is replaced and no longer valid', async () => {
    const { clientId, email } = await newAccount();
    const agent = browser(server);
    const start = await agent.get('/oauth2/authorize').query(authorizeParams(clientId).query);
    const before = sessionCookie(start);
    expect(before).toBeTruthy();
    const page = await agent.get(start.headers.location as string);
    const interaction =
      new URL(start.headers.location as string, server.url).searchParams.get('interaction') ?? '';
    const login = await agent
      .post('/login')
      .type('form')
      .send({ csrf: csrfOf(page.text), interaction, email, password: PASSWORD });
    const after = sessionCookie(login);
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    const count = async (token: string | undefined) => {
      const [row] = await rawQuery<{ n: string }>(
        server.conn,
        'select count(*) as n from auth.sessions where token_hash = $1',
        [sha256(token ?? '')],
      );
      return Number(row?.n);
    };
    expect(await count(before)).toBe(0);
    expect(await count(after)).toBe(1);
    // The attacker who planted the old cookie is not signed in.
    const planted = await browser(server)
      .get('/oauth2/authorize')
      .set('cookie', `tessera_session=${before}`)
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(new URL(planted.headers.location as string).searchParams.get('error')).toBe('login_required');
    // The victim is, and the pending request survived the rotation.
    const resumed = await agent.get(login.headers.location as string);
    expect(new URL(resumed.headers.location as string).searchParams.get('code')).toBeTruthy();
  });

  it('stores only a hash of the session token', async () => {
    const res = await browser(server).get('/login');
    const token = sessionCookie(res) ?? '';
    const rows = await rawQuery<{ token_hash: string }>(server.conn, 'select token_hash from auth.sessions');
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    expect(rows.every((r) => r.token_hash.length === 43)).toBe(true);
  });
});

describe('POST /login: credentials and brute force', () => {
  it('answers a wrong password and an unknown account with the same generic message', async () => {
    const { clientId, email } = await newAccount();
    const { agent, csrf, interaction } = await openLogin(clientId);
    const wrong = await agent
      .post('/login')
      .type('form')
      .send({ csrf, interaction, email, password: 'wrong password' });
    const unknownEmail = `${randomUUID()}@example.com`;
    const unknown = await agent
      .post('/login')
      .type('form')
      .send({ csrf, interaction, email: unknownEmail, password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.text).toContain('Invalid email or password.');
    expect(normalised(wrong, email)).toBe(normalised(unknown, unknownEmail));
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('locks an account after repeated failures, answering exactly as for an unknown account', async () => {
    const { clientId, email } = await newAccount();
    const unknownEmail = `${randomUUID()}@example.com`;
    const { agent, csrf, interaction } = await openLogin(clientId);
    const attempt = (who: string, password: string) =>
      agent.post('/login').type('form').send({ csrf, interaction, email: who, password });
    for (let i = 0; i < 4; i++) {
      expect((await attempt(email, 'wrong')).status).toBe(401);
      expect((await attempt(unknownEmail, 'wrong')).status).toBe(401);
    }
    const verifications = server.users.verifications;
    const locked = await attempt(email, PASSWORD);
    const lockedUnknown = await attempt(unknownEmail, PASSWORD);
    expect(locked.status).toBe(429);
    expect(lockedUnknown.status).toBe(429);
    expect(locked.headers['retry-after']).toBe(lockedUnknown.headers['retry-after']);
    expect(normalised(locked, email)).toBe(normalised(lockedUnknown, unknownEmail));
    expect(locked.text).toContain('Too many failed sign-in attempts');
    expect(locked.headers['set-cookie']).toBeUndefined();
    expect(server.users.verifications).toBe(verifications);
    // The lock lifts when the window ends.
    server.clock.advance(15 * 60 * 1000 + 1000);
    const { agent: later, csrf: csrf2, interaction: interaction2 } = await openLogin(clientId);
    const ok = await later
      .post('/login')
      .type('form')
      .send({ csrf: csrf2, interaction: interaction2, email, password: PASSWORD });
    expect(ok.status).toBe(303);
  });

  it('clears an account’s failures after a successful login', async () => {
    const { clientId, email } = await newAccount();
    const { agent, csrf, interaction } = await openLogin(clientId);
    for (let i = 0; i < 3; i++)
      await agent.post('/login').type('form').send({ csrf, interaction, email, password: 'nope' });
    expect(
      (await agent.post('/login').type('form').send({ csrf, interaction, email, password: PASSWORD })).status,
    ).toBe(303);
    const next = await openLogin(clientId);
    for (let i = 0; i < 3; i++) {
      const res = await next.agent
        .post('/login')
        .type('form')
        .send({ csrf: next.csrf, interaction: next.interaction, email, password: 'nope' });
      expect(res.status).toBe(401);
    }
  });
});

describe('organization choice', () => {
  it('lets a member of several organizations choose one and puts it into the tokens', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD, [
      { id: 'org-a', slug: 'acme', name: 'Acme', roles: ['member'], permissions: ['users:read'] },
      {
        id: 'org-b',
        slug: 'globex',
        name: 'Globex',
        roles: ['admin'],
        permissions: ['users:read', 'users:write'],
      },
    ]);
    const agent = browser(server);
    const start = await agent.get('/oauth2/authorize').query(authorizeParams(clientId).query);
    const page = await agent.get(start.headers.location as string);
    const interaction =
      new URL(start.headers.location as string, server.url).searchParams.get('interaction') ?? '';
    const login = await agent
      .post('/login')
      .type('form')
      .send({ csrf: csrfOf(page.text), interaction, email, password: PASSWORD });
    const resume = await agent.get(login.headers.location as string);
    expect(resume.status).toBe(303);
    expect(resume.headers.location).toBe(`/login/organization?interaction=${interaction}`);
    const choice = await agent.get(resume.headers.location as string);
    expect(choice.status).toBe(200);
    expect(choice.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(choice.text).toContain('Acme');
    expect(choice.text).toContain('Globex');
    const foreign = await agent
      .post('/login/organization')
      .type('form')
      .send({ csrf: csrfOf(choice.text), interaction, org_id: 'org-not-mine' });
    expect(foreign.status).toBe(400);
    const noCsrf = await agent
      .post('/login/organization')
      .type('form')
      .send({ interaction, org_id: 'org-b' });
    expect(noCsrf.status).toBe(403);
    const chosen = await agent
      .post('/login/organization')
      .type('form')
      .send({ csrf: csrfOf(choice.text), interaction, org_id: 'org-b' });
    expect(chosen.status).toBe(303);
    const done = await agent.get(chosen.headers.location as string);
    const code = new URL(done.headers.location as string).searchParams.get('code') ?? '';
    expect(code).toBeTruthy();
  });

  it('answers interaction_required to prompt=none when no organization has been chosen', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD, [
      { id: 'org-a', slug: 'acme', name: 'Acme', roles: [], permissions: [] },
      { id: 'org-b', slug: 'globex', name: 'Globex', roles: [], permissions: [] },
    ]);
    const agent = browser(server);
    const page = await agent.get('/login');
    expect(
      (
        await agent
          .post('/login')
          .type('form')
          .send({ csrf: csrfOf(page.text), email, password: PASSWORD })
      ).status,
    ).toBe(303);
    const res = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('interaction_required');
  });
});

describe('token claims from the organization', () => {
  it('carries org_id, roles and permissions of the chosen organization', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(
      testClient({
        clientId,
        scopes: ['openid', 'profile', 'email', 'offline_access', 'users:read', 'users:write'],
      }),
    );
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD, [
      { id: 'org-a', slug: 'acme', name: 'Acme', roles: ['member'], permissions: ['users:read'] },
      {
        id: 'org-b',
        slug: 'globex',
        name: 'Globex',
        roles: ['admin'],
        permissions: ['users:read', 'users:write'],
      },
    ]);
    const result = await authorizeWithLogin(browser(server), server, {
      clientId,
      email,
      password: PASSWORD,
      orgId: 'org-b',
      overrides: { scope: 'openid users:read users:write' },
    });
    const issued = tokens(await redeem(server, clientId, result));
    const access = decodeJwt(issued.access_token);
    expect(access.org_id).toBe('org-b');
    expect(access.roles).toEqual(['admin']);
    expect(access.permissions).toEqual(['users:read', 'users:write']);
    expect(decodeJwt(issued.id_token ?? '').org_id).toBe('org-b');
  });

  it('carries only the permissions the granted scopes name: an app that asked for openid gets none', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(
      testClient({
        clientId,
        scopes: ['openid', 'profile', 'email', 'offline_access', 'users:read', 'users:write', 'keys:*'],
      }),
    );
    const email = `${randomUUID()}@example.com`;
    const admin = ['users:read', 'users:write', 'clients:write', 'keys:read', 'keys:write'];
    server.users.add(email, PASSWORD, [
      { id: 'org-a', slug: 'acme', name: 'Acme', roles: ['admin'], permissions: admin },
    ]);
    const permissionsFor = async (scope: string) => {
      const result = await authorizeWithLogin(browser(server), server, {
        clientId,
        email,
        password: PASSWORD,
        orgId: 'org-a',
        overrides: { scope },
      });
      const access = decodeJwt(tokens(await redeem(server, clientId, result)).access_token);
      expect(access.roles).toEqual(['admin']);
      return access.permissions;
    };
    expect(await permissionsFor('openid')).toEqual([]);
    expect(await permissionsFor('openid users:read')).toEqual(['users:read']);
    // `keys:*` covers every keys permission the user holds, and nothing of other resources.
    expect(await permissionsFor('openid users:write keys:*')).toEqual([
      'users:write',
      'keys:read',
      'keys:write',
    ]);
  });
});
