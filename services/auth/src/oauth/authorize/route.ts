import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '@tessera/kernel';
import type { BrowserSessions } from '../../sessions/browser.ts';
import { PATHS } from '../../flows/paths.ts';
import { sendExpiredRequest } from '../../login/pages.ts';
import type { AuthorizeFlow } from './flow.ts';
import type { Interactions } from './interactions.ts';
import { readAuthorizationParams } from './params.ts';
import {
  authorizationRequest,
  documentedForm,
  documentedQuery,
  FORM_BOUND,
  QUERY_BOUND,
} from '../documented-params.ts';

/** Dependencies of {@link registerAuthorizeRoutes}. */
export interface AuthorizeRouteDeps {
  flow: AuthorizeFlow;
  sessions: BrowserSessions;
  interactions: Interactions;
}

/**
 * `GET|POST /oauth2/authorize` (OIDC Core §3.1.2.1 requires both) and
 * `GET /oauth2/authorize/resume` (continues a request after the login, organization or consent
 * page). The query is read by the protocol checks themselves, not by a route schema: unknown
 * parameters must be ignored and a bad value must become an error page or an error redirect,
 * never a problem+json body the browser would show.
 */
export function registerAuthorizeRoutes(app: HttpServer, deps: AuthorizeRouteDeps): void {
  // The same request either way (OIDC Core §3.1.2.1): only where its parameters are read differs.
  const start =
    (parameters: (request: FastifyRequest) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const session = await deps.sessions.current(request);
      return deps.flow.run(request, reply, readAuthorizationParams(parameters(request)), session, undefined);
    };
  const query = { config: documentedQuery(authorizationRequest(QUERY_BOUND)) };
  app.get(
    PATHS.authorize,
    query,
    start((request) => request.query),
  );
  const form = { config: documentedForm(authorizationRequest(FORM_BOUND)) };
  app.post(
    PATHS.authorize,
    form,
    start((request) => request.body),
  );

  app.get(
    PATHS.resume,
    { schema: { querystring: Type.Object({ interaction: Type.String({ minLength: 1, maxLength: 64 }) }) } },
    async (request, reply) => {
      const session = await deps.sessions.current(request);
      const interaction = session
        ? await deps.interactions.find(request.query.interaction, session.session.id)
        : undefined;
      if (!session || !interaction) {
        return sendExpiredRequest(reply);
      }
      return deps.flow.run(request, reply, readAuthorizationParams(interaction.params), session, interaction);
    },
  );
}
