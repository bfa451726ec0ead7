import { Type } from 'typebox';
import type { HttpServer } from '@tessera/kernel';
import type { BrowserSessions } from '../sessions/browser.ts';
import { csrfToken } from '../sessions/csrf.ts';
import { isSignedIn } from '../sessions/store.ts';
import type { AuthorizeFlow } from '../oauth/authorize/flow.ts';
import { AUTHORIZE_ERRORS, AuthorizeError } from '../oauth/authorize/errors.ts';
import { redirectOrigin, type PendingRequests } from '../oauth/authorize/pending.ts';
import { checkPendingFormPost } from '../login/form-guard.ts';
import { sendExpiredRequest } from '../login/pages.ts';
import { PATHS, pathWithQuery } from '../flows/paths.ts';
import type { ConsentStore } from './store.ts';
import { sendConsentPage } from './page.ts';
import { PAGE_FORM_TYPES } from '../oauth/documented-params.ts';

/** Dependencies of {@link registerConsentRoutes}. */
export interface ConsentRouteDeps {
  sessions: BrowserSessions;
  pending: PendingRequests;
  consents: ConsentStore;
  flow: AuthorizeFlow;
  ownOrigin: string;
}

const ConsentQuery = Type.Object({ interaction: Type.String({ minLength: 1, maxLength: 64 }) });
const ConsentForm = Type.Object(
  {
    csrf: Type.Optional(Type.String({ maxLength: 128 })),
    interaction: Type.Optional(Type.String({ maxLength: 64 })),
    decision: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);

/**
 * `GET|POST /consent` (OIDC Core §3.1.2.4): a third-party client's requested scopes are shown
 * to the signed-in user; Allow remembers them for this user and client and resumes the request,
 * Deny answers the client `access_denied`.
 */
export function registerConsentRoutes(app: HttpServer, deps: ConsentRouteDeps): void {
  app.get(PATHS.consent, { schema: { querystring: ConsentQuery } }, async (request, reply) => {
    const current = await deps.sessions.current(request);
    const interaction = request.query.interaction;
    if (!current || !isSignedIn(current.session)) {
      return reply.redirect(pathWithQuery(PATHS.login, { interaction }), 303);
    }
    const pending = await deps.pending.load(current, interaction);
    if (!pending) return sendExpiredRequest(reply);
    return sendConsentPage(reply, {
      csrf: csrfToken(current.token),
      interaction: pending.interaction.id,
      clientName: pending.authz.client.name,
      scopes: pending.authz.scopes,
      formTargets: redirectOrigin(pending.authz),
    });
  });

  app.post(
    PATHS.consent,
    { schema: { consumes: PAGE_FORM_TYPES, body: ConsentForm } },
    async (request, reply) => {
      const form = request.body;
      const post = await checkPendingFormPost(request, reply, deps, form);
      if (!post) return reply;
      const { userId, pending } = post;
      if (form.decision !== 'allow') {
        const denied = new AuthorizeError(AUTHORIZE_ERRORS.ACCESS_DENIED, 'the user denied the request');
        return deps.flow.reject(request, reply, pending.interaction, pending.authz, denied);
      }
      await deps.consents.grant(userId, pending.authz.client.clientId, pending.authz.scopes);
      return reply
        .header('cache-control', 'no-store')
        .redirect(pathWithQuery(PATHS.resume, { interaction: pending.interaction.id }), 303);
    },
  );
}
