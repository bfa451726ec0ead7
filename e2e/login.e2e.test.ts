/**
 * The hosted login page in real Chromium (Debian's, never a downloaded browser): a user signs in
 * through the page itself and the client receives a code; the page's CSP holds (no violation)
 * and it cannot be framed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  pkcePair,
  startFlowServer,
  testClient,
  type FlowServer,
} from '../services/auth/src/flows/testing.ts';

const PASSWORD = 'correct horse battery staple';
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: FlowServer;
let browser: Browser;
/** The client's redirect target: a real listener, as the browser must leave the auth server to reach it. */
let app: Server;
let CALLBACK = '';
const clientId = `e2e-${randomUUID()}`;
const email = `${randomUUID()}@example.com`;

beforeAll(async () => {
  app = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>callback</title><p>ok</p>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const address = app.address();
  CALLBACK = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/callback`;
  server = await startFlowServer();
  await server.clients.add(testClient({ clientId, name: 'E2E Demo App', redirectUris: [CALLBACK] }));
  server.users.add(email, PASSWORD);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise((resolve) => app?.close(resolve));
});

/** A page in a fresh context that records CSP violations. */
async function newPage(): Promise<{ page: Page; violations: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return { page, violations, close: () => context.close() };
}

function authorizeUrl(challenge: string, state: string): string {
  const url = new URL('/oauth2/authorize', server.url);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    scope: 'openid email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

describe('hosted login page in Chromium', () => {
  it('signs a user in through the page and hands the client a code it can redeem', async () => {
    const { page, violations, close } = await newPage();
    const pkce = pkcePair();
    await page.goto(authorizeUrl(pkce.challenge, 'e2e-state'));
    await expect(page.title()).resolves.toBe('Sign in');
    expect(await page.textContent('main')).toContain('E2E Demo App');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${CALLBACK}**`),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('state')).toBe('e2e-state');
    expect(landed.searchParams.get('iss')).toBe(server.url);
    const code = landed.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = await fetch(new URL('/oauth2/token', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        code_verifier: pkce.verifier,
        redirect_uri: CALLBACK,
      }),
    });
    expect(token.status).toBe(200);
    expect(violations).toEqual([]);
    await close();
  });

  it('shows the generic error in an alert, keeping the typed email', async () => {
    const { page, violations, close } = await newPage();
    await page.goto(authorizeUrl(pkcePair().challenge, 's'));
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign in' }).click()]);
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid email or password.');
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(email);
    expect(page.url()).toBe(new URL('/login', server.url).toString());
    expect(violations).toEqual([]);
    await close();
  });

  it('cannot be framed by another site', async () => {
    const { page, close } = await newPage();
    const loginUrl = new URL('/login', server.url).toString();
    await page.route('http://framer.test/', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: `<!doctype html><title>framer</title><iframe id="f" src="${loginUrl}"></iframe>`,
      }),
    );
    await page.goto('http://framer.test/');
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const framedForm = frame ? await frame.$('form').catch(() => null) : null;
    expect(framedForm).toBeNull();
    await close();
  });
});
