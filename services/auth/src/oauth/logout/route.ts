import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '@tessera/kernel';
import type { ClientLookup } from '../../contracts.ts';
import type { GrantFamilies } from '../../grants/families.ts';
import type { JwksSource } from '../../flows/deps.ts';
import { PATHS, appendQuery } from '../../flows/paths.ts';
import { readSingleParams } from '../request-params.ts';
import type { BrowserSessions, CurrentSession } from '../../sessions/browser.ts';
import { csrfToken } from '../../sessions/csrf.ts';
import { isSignedIn } from '../../sessions/store.ts';
import { checkFormPost, isForeignOrigin } from '../../login/form-guard.ts';
import { sendForbiddenForm } from '../../login/pages.ts';
import { redirectStatus } from '../authorize/respond.ts';
import { MAX_STATE_LENGTH } from '../authorize/checks/check-state-and-nonce.ts';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint.ts';
import { sendLogoutConfirmPage, sendLogoutErrorPage, sendSignedOutPage } from './pages.ts';
import {
  documentedForm,
  documentedQuery,
  FORM_BOUND,
  PAGE_FORM_TYPES,
  logoutRequest,
  QUERY_BOUND,
} from '../documented-params.ts';

/** Dependencies of {@link registerLogoutRoutes}. */
export interface LogoutRouteDeps {
  sessions: BrowserSessions;
  families: GrantFamilies;
  clients: ClientLookup;
  jwks: JwksSource;
  issuer: string;
  ownOrigin: string;
}

const LOGOUT_PARAMS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const;
type LogoutParams = Partial<Record<(typeof LOGOUT_PARAMS)[number], string>>;

const ConfirmForm = Type.Object(
  {
    csrf: Type.Optional(Type.String({ maxLength: 128 })),
    client_id: Type.Optional(Type.String({ maxLength: 255 })),
    post_logout_redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
    state: Type.Optional(Type.String({ maxLength: MAX_STATE_LENGTH })),
  },
  { additionalProperties: false },
);

/** A logout request whose redirect (if any) has been checked against the client's registration. */
interface ResolvedLogout {
  hint: IdTokenHint | undefined;
  clientId: string | undefined;
  /** Where to send the browser afterwards: only a URI registered for the client (SECURITY 26). */
  redirect: string | undefined;
  state: string | undefined;
}

function readParams(input: unknown): { params: LogoutParams; repeated: boolean } {
  const { params, repeated } = readSingleParams(input, LOGOUT_PARAMS);
  return { params, repeated: repeated.length > 0 };
}

/**
 * OpenID Connect RP-Initiated Logout 1.0: `GET|POST /oauth2/logout` (and `GET /logout`) end the
 * browser's session, revoke the grants issued from it (SECURITY 14b) and clear the cookie. With an
 * `id_token_hint` for the signed-in user the logout is immediate; otherwise the user confirms
 * with a CSRF-protected `POST /logout`, so another site cannot sign people out. The browser is
 * sent only to a `post_logout_redirect_uri` registered for the identified client; anything else
 * is an error page, never a redirect (SECURITY 26).
 */
export function registerLogoutRoutes(app: HttpServer, deps: LogoutRouteDeps): void {
  async function resolve(params: LogoutParams): Promise<ResolvedLogout | string> {
    let hint: IdTokenHint | undefined;
    if (params.id_token_hint !== undefined) {
      hint = await verifyIdTokenHint(params.id_token_hint, deps);
      if (!hint) return 'id_token_hint is not a valid ID token from this server.';
    }
    if (params.client_id !== undefined && hint && params.client_id !== hint.clientId) {
      return 'client_id does not match the id_token_hint.';
    }
    const clientId = params.client_id ?? hint?.clientId;
    const client =
      clientId !== undefined && clientId.length <= 255 ? await deps.clients.find(clientId) : undefined;
    if (clientId !== undefined && !client) return 'The application is not registered with this server.';
    const uri = params.post_logout_redirect_uri;
    if (uri !== undefined && !client) return 'post_logout_redirect_uri requires client_id or id_token_hint.';
    if (uri !== undefined && !client?.postLogoutRedirectUris.includes(uri)) {
      return 'post_logout_redirect_uri is not registered for this application.';
    }
    if ((params.state?.length ?? 0) > MAX_STATE_LENGTH) return 'state is too long.';
    return { hint, clientId, redirect: uri, state: params.state };
  }

  async function endSession(reply: FastifyReply, current: CurrentSession | undefined): Promise<void> {
    if (current) await deps.families.revokeBySession(current.session.id);
    await deps.sessions.end(reply, current?.session);
  }

  function finish(request: FastifyRequest, reply: FastifyReply, resolved: ResolvedLogout): FastifyReply {
    reply.header('cache-control', 'no-store');
    if (!resolved.redirect) return sendSignedOutPage(reply);
    return reply.redirect(appendQuery(resolved.redirect, { state: resolved.state }), redirectStatus(request));
  }

  async function rpInitiated(
    request: FastifyRequest,
    reply: FastifyReply,
    input: unknown,
  ): Promise<FastifyReply> {
    const { params, repeated } = readParams(input);
    if (repeated) return sendLogoutErrorPage(reply, 'A parameter was given more than once.');
    const resolved = await resolve(params);
    if (typeof resolved === 'string') return sendLogoutErrorPage(reply, resolved);
    const current = await deps.sessions.current(request);
    if (!current || !isSignedIn(current.session) || resolved.hint?.sub === current.session.userId) {
      await endSession(reply, current);
      return finish(request, reply, resolved);
    }
    return sendLogoutConfirmPage(reply, {
      csrf: csrfToken(current.token),
      clientId: resolved.clientId,
      postLogoutRedirectUri: resolved.redirect,
      state: resolved.state,
      formTargets: resolved.redirect ? [new URL(resolved.redirect).origin] : [],
    });
  }

  const query = { config: documentedQuery(logoutRequest(QUERY_BOUND)) };
  app.get(PATHS.endSession, query, (request, reply) => rpInitiated(request, reply, request.query));
  app.post(PATHS.endSession, { config: documentedForm(logoutRequest(FORM_BOUND)) }, (request, reply) =>
    rpInitiated(request, reply, request.body),
  );
  app.get(PATHS.logout, query, (request, reply) => rpInitiated(request, reply, request.query));

  app.post(
    PATHS.logout,
    { schema: { consumes: PAGE_FORM_TYPES, body: ConfirmForm } },
    async (request, reply) => {
      const form = request.body;
      if (isForeignOrigin(request, deps.ownOrigin)) return sendForbiddenForm(reply);
      const resolved = await resolve({
        client_id: form.client_id,
        post_logout_redirect_uri: form.post_logout_redirect_uri,
        state: form.state,
      });
      if (typeof resolved === 'string') return sendLogoutErrorPage(reply, resolved);
      const current = await deps.sessions.current(request);
      if (current && isSignedIn(current.session)) {
        const check = await checkFormPost(request, deps.sessions, deps.ownOrigin, form.csrf);
        if (!check.ok) return sendForbiddenForm(reply);
      }
      await endSession(reply, current);
      return finish(request, reply, resolved);
    },
  );
}
