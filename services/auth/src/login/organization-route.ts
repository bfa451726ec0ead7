import { Type } from 'typebox';
import type { HttpServer } from '@tessera/kernel';
import type { UsersGateway } from '../contracts.ts';
import type { BrowserSessions } from '../sessions/browser.ts';
import { csrfToken } from '../sessions/csrf.ts';
import { isSignedIn } from '../sessions/store.ts';
import { redirectOrigin, type PendingRequests } from '../oauth/authorize/pending.ts';
import { PATHS, pathWithQuery } from '../flows/paths.ts';
import { checkPendingFormPost } from './form-guard.ts';
import { sendExpiredRequest, sendOrganizationPage } from './pages.ts';
import { PAGE_FORM_TYPES } from '../oauth/documented-params.ts';

/** Dependencies of {@link registerOrganizationRoutes}. */
export interface OrganizationRouteDeps {
  sessions: BrowserSessions;
  pending: PendingRequests;
  users: UsersGateway;
  ownOrigin: string;
}

const OrganizationQuery = Type.Object({ interaction: Type.String({ minLength: 1, maxLength: 64 }) });
const OrganizationForm = Type.Object(
  {
    csrf: Type.Optional(Type.String({ maxLength: 128 })),
    interaction: Type.Optional(Type.String({ maxLength: 64 })),
    org_id: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

/**
 * `GET|POST /login/organization`: a user who belongs to several organizations chooses the one
 * this session works in; its id becomes the tokens' `org_id` with that organization's roles.
 */
export function registerOrganizationRoutes(app: HttpServer, deps: OrganizationRouteDeps): void {
  app.get(PATHS.organization, { schema: { querystring: OrganizationQuery } }, async (request, reply) => {
    const current = await deps.sessions.current(request);
    const interaction = request.query.interaction;
    if (!current || !isSignedIn(current.session)) {
      return reply.redirect(pathWithQuery(PATHS.login, { interaction }), 303);
    }
    const pending = await deps.pending.load(current, interaction);
    if (!pending) return sendExpiredRequest(reply);
    const organizations = await deps.users.listOrganizations(current.session.userId);
    return sendOrganizationPage(reply, 200, {
      csrf: csrfToken(current.token),
      interaction: pending.interaction.id,
      clientName: pending.authz.client.name,
      organizations,
      formTargets: redirectOrigin(pending.authz),
    });
  });

  app.post(
    PATHS.organization,
    { schema: { consumes: PAGE_FORM_TYPES, body: OrganizationForm } },
    async (request, reply) => {
      const form = request.body;
      const post = await checkPendingFormPost(request, reply, deps, form);
      if (!post) return reply;
      const { current, userId, pending } = post;
      const organizations = await deps.users.listOrganizations(userId);
      const chosen = organizations.find((org) => org.id === form.org_id);
      if (!chosen) {
        return sendOrganizationPage(reply, 400, {
          csrf: csrfToken(current.token),
          interaction: pending.interaction.id,
          clientName: pending.authz.client.name,
          organizations,
          error: 'Choose one of your organizations.',
          formTargets: redirectOrigin(pending.authz),
        });
      }
      await deps.sessions.store.setOrganization(current.session.id, chosen.id);
      return reply
        .header('cache-control', 'no-store')
        .redirect(pathWithQuery(PATHS.resume, { interaction: pending.interaction.id }), 303);
    },
  );
}
