import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery } from '@tessera/db';
import { csrfOf, startFlowServer, testClient, type FlowServer } from '../flows/testing.ts';
import { authorizeParams, browser, submitLogin, type Browser, type Response } from '../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

/** A signed-in browser at the consent page of a third-party client. */
async function atConsent(scope = 'openid email offline_access users:read') {
  const clientId = `third-${randomUUID()}`;
  await server.clients.add(testClient({ clientId, name: 'Photo Printer <Inc>', firstParty: false }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  const agent = browser(server);
  const start = await agent.get('/oauth2/authorize').query(authorizeParams(clientId, { scope }).query);
  const login = await submitLogin(agent, start.headers.location as string, email, PASSWORD);
  const resume = await agent.get(login.headers.location as string);
  expect(resume.status).toBe(303);
  const location = resume.headers.location as string;
  expect(location).toMatch(/^\/consent\?interaction=/);
  const page = await agent.get(location);
  const interaction = new URL(location, server.url).searchParams.get('interaction') ?? '';
  return { agent, page, interaction, clientId, userId: user.profile.id };
}

async function consentRows(userId: string): Promise<Array<{ client_id: string; scopes: string[] }>> {
  return rawQuery(server.conn, 'select client_id, scopes from auth.consents where user_id = $1', [userId]);
}

function clientParams(response: Response): URLSearchParams {
  return new URL(response.headers.location as string).searchParams;
}

async function decide(
  agent: Browser,
  csrf: string | undefined,
  interaction: string,
  decision: string,
): Promise<Response> {
  return agent
    .post('/consent')
    .type('form')
    .send({ ...(csrf ? { csrf } : {}), interaction, decision });
}

describe('consent for third-party clients', () => {
  it('lists the requested scopes on a protected page', async () => {
    const { page } = await atConsent();
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).toContain('Photo Printer &lt;Inc&gt;');
    for (const scope of ['openid', 'email', 'offline_access', 'users:read'])
      expect(page.text).toContain(`(${scope})`);
    expect(page.text).toContain('See your email address');
  });

  it('issues the code after Allow and remembers the consent for the next request', async () => {
    const { agent, page, interaction, clientId, userId } = await atConsent();
    const allowed = await decide(agent, csrfOf(page.text), interaction, 'allow');
    expect(allowed.status).toBe(303);
    const done = await agent.get(allowed.headers.location as string);
    expect(clientParams(done).get('code')).toBeTruthy();
    expect(await consentRows(userId)).toEqual([
      { client_id: clientId, scopes: ['email', 'offline_access', 'openid', 'users:read'] },
    ]);
    const again = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { scope: 'openid email', prompt: 'none' }).query);
    expect(clientParams(again).get('code')).toBeTruthy();
  });

  it('asks again for scopes not consented yet, and for prompt=consent', async () => {
    const { agent, page, interaction, clientId } = await atConsent('openid');
    await agent.get(
      (await decide(agent, csrfOf(page.text), interaction, 'allow')).headers.location as string,
    );
    const wider = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { scope: 'openid email' }).query);
    expect(wider.headers.location).toMatch(/^\/consent\?/);
    const forced = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { scope: 'openid', prompt: 'consent' }).query);
    expect(forced.headers.location).toMatch(/^\/consent\?/);
    const forcedPage = await agent.get(forced.headers.location as string);
    const forcedInteraction =
      new URL(forced.headers.location as string, server.url).searchParams.get('interaction') ?? '';
    const ok = await decide(agent, csrfOf(forcedPage.text), forcedInteraction, 'allow');
    const done = await agent.get(ok.headers.location as string);
    expect(clientParams(done).get('code')).toBeTruthy();
  });

  it('answers access_denied with state and iss when the user denies', async () => {
    const { agent, page, interaction, userId } = await atConsent();
    const denied = await decide(agent, csrfOf(page.text), interaction, 'deny');
    expect(denied.status).toBe(303);
    const params = clientParams(denied);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('state-123');
    expect(params.get('iss')).toBe(server.url);
    expect(await consentRows(userId)).toEqual([]);
    const replay = await agent.get(`/oauth2/authorize/resume?interaction=${interaction}`);
    expect(replay.status).toBe(400);
  });

  it('refuses a consent post without or with a wrong CSRF token, storing nothing', async () => {
    const { agent, interaction, userId } = await atConsent();
    expect((await decide(agent, undefined, interaction, 'allow')).status).toBe(403);
    expect((await decide(agent, 'forged-token', interaction, 'allow')).status).toBe(403);
    expect(await consentRows(userId)).toEqual([]);
  });

  it('refuses a consent post from a foreign Origin', async () => {
    const { agent, page, interaction, userId } = await atConsent();
    const res = await agent
      .post('/consent')
      .set('origin', 'https://evil.example')
      .type('form')
      .send({ csrf: csrfOf(page.text), interaction, decision: 'allow' });
    expect(res.status).toBe(403);
    expect(await consentRows(userId)).toEqual([]);
  });

  it('skips the page for first-party clients', async () => {
    const clientId = `first-${randomUUID()}`;
    await server.clients.add(testClient({ clientId, firstParty: true }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const agent = browser(server);
    const start = await agent.get('/oauth2/authorize').query(authorizeParams(clientId).query);
    const login = await submitLogin(agent, start.headers.location as string, email, PASSWORD);
    const done = await agent.get(login.headers.location as string);
    expect(clientParams(done).get('code')).toBeTruthy();
  });

  it('shows the page to a first-party client that asks for it with prompt=consent', async () => {
    const clientId = `first-${randomUUID()}`;
    await server.clients.add(testClient({ clientId, firstParty: true }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const agent = browser(server);
    const start = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'consent' }).query);
    const login = await submitLogin(agent, start.headers.location as string, email, PASSWORD);
    const resume = await agent.get(login.headers.location as string);
    expect(resume.headers.location).toMatch(/^\/consent\?interaction=/);
    const page = await agent.get(resume.headers.location as string);
    const interaction =
      new URL(resume.headers.location as string, server.url).searchParams.get('interaction') ?? '';
    const allowed = await decide(agent, csrfOf(page.text), interaction, 'allow');
    const done = await agent.get(allowed.headers.location as string);
    expect(clientParams(done).get('code')).toBeTruthy();
  });
});
