/**
 * HTTP helpers for the flows' tests: a browser-like Supertest agent (it keeps cookies) walking
 * authorize → login → (organization, consent) → code, and the token requests after it.
 */
import request from 'supertest';
import type { TokenResponse } from '../contracts.ts';
import { csrfOf, pkcePair, queryOf, type FlowServer } from './testing.ts';

/** A Supertest agent: one browser with its own cookie jar. */
export type Browser = ReturnType<typeof request.agent>;
/** A Supertest response. */
export type Response = request.Response;

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';

/** A fresh browser for `server`. */
export function browser(server: FlowServer): Browser {
  return request.agent(server.url);
}

/** Authorization request parameters for `clientId` with a new PKCE pair; `overrides` replace or (undefined) remove. */
export function authorizeParams(
  clientId: string,
  overrides: Record<string, string | undefined> = {},
): { query: Record<string, string>; verifier: string } {
  const pkce = pkcePair();
  const merged: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) if (value !== undefined) query[name] = value;
  return { query, verifier: pkce.verifier };
}

/** Fetches the page at `location` and posts its login form. */
export async function submitLogin(
  agent: Browser,
  location: string,
  email: string,
  password: string,
): Promise<Response> {
  const page = await agent.get(location);
  const interaction = /name="interaction" value="([^"]+)"/.exec(page.text)?.[1];
  return agent
    .post('/login')
    .type('form')
    .send({ csrf: csrfOf(page.text), email, password, ...(interaction ? { interaction } : {}) });
}

/** What a completed authorization returned to the client. */
export interface AuthorizationResult {
  code: string;
  verifier: string;
  params: URLSearchParams;
  location: string;
}

/**
 * Runs authorize with a login (when the browser has no session) and returns the code. For
 * multi-organization users pass `orgId`; for third-party clients consent is allowed.
 */
export async function authorizeWithLogin(
  agent: Browser,
  server: FlowServer,
  options: {
    clientId: string;
    email: string;
    password: string;
    overrides?: Record<string, string | undefined>;
    orgId?: string;
  },
): Promise<AuthorizationResult> {
  const { query, verifier } = authorizeParams(options.clientId, options.overrides);
  let response = await agent.get('/oauth2/authorize').query(query);
  for (let step = 0; step < 6; step++) {
    const location = response.headers.location;
    if (typeof location !== 'string')
      throw new Error(`authorize stopped with ${response.status}: ${response.text}`);
    const target = new URL(location, server.url);
    if (target.origin !== server.url) {
      const params = target.searchParams;
      const code = params.get('code');
      if (!code) throw new Error(`authorization failed: ${location}`);
      return { code, verifier, params, location };
    }
    const path = target.pathname + target.search;
    if (target.pathname === '/login') {
      response = await submitLogin(agent, path, options.email, options.password);
    } else if (target.pathname === '/login/organization') {
      const page = await agent.get(path);
      response = await agent
        .post('/login/organization')
        .type('form')
        .send({
          csrf: csrfOf(page.text),
          interaction: queryOf(path).get('interaction') ?? '',
          org_id: options.orgId ?? '',
        });
    } else if (target.pathname === '/consent') {
      const page = await agent.get(path);
      response = await agent
        .post('/consent')
        .type('form')
        .send({
          csrf: csrfOf(page.text),
          interaction: queryOf(path).get('interaction') ?? '',
          decision: 'allow',
        });
    } else {
      response = await agent.get(path);
    }
  }
  throw new Error('authorization did not finish');
}

/** `POST /oauth2/token` with a form body (and Basic credentials when `basic` is given). */
export function tokenRequest(
  server: FlowServer,
  form: Record<string, string>,
  basic?: [string, string],
): request.Test {
  const req = request(server.url).post('/oauth2/token').type('form');
  if (basic) req.auth(basic[0], basic[1]);
  return req.send(form);
}

/** Redeems a code for a public client. */
export async function redeem(
  server: FlowServer,
  clientId: string,
  result: { code: string; verifier: string },
  overrides: Record<string, string> = {},
): Promise<Response> {
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: result.code,
    code_verifier: result.verifier,
    redirect_uri: REDIRECT_URI,
    ...overrides,
  });
}

/** Refreshes for a public client. */
export async function refresh(
  server: FlowServer,
  clientId: string,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return tokenRequest(server, {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
    ...extra,
  });
}

/** The token response body, typed. */
export function tokens(response: Response): TokenResponse {
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${response.text}`);
  return response.body as TokenResponse;
}
