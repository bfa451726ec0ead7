import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { HttpServer } from '@tessera/kernel';
import type { AuthMetrics } from '../metrics.ts';
import type { UsersGateway } from '../contracts.ts';
import type { GrantFamilies } from '../grants/families.ts';
import type { BrowserSessions, CurrentSession } from '../sessions/browser.ts';
import { csrfToken } from '../sessions/csrf.ts';
import { isSignedIn } from '../sessions/store.ts';
import type { Interactions } from '../oauth/authorize/interactions.ts';
import { redirectOrigin, type PendingRequest, type PendingRequests } from '../oauth/authorize/pending.ts';
import { PATHS, pathWithQuery } from '../flows/paths.ts';
import { checkFormPost } from './form-guard.ts';
import type { LoginGuard } from './login-guard.ts';
import {
  INVALID_CREDENTIALS,
  TOO_MANY_ATTEMPTS,
  sendExpiredRequest,
  sendForbiddenForm,
  sendLoginPage,
  sendSignedInPage,
} from './pages.ts';
import { PAGE_FORM_TYPES } from '../oauth/documented-params.ts';

/** Dependencies of {@link registerLoginRoutes}. */
export interface LoginRouteDeps {
  sessions: BrowserSessions;
  pending: PendingRequests;
  interactions: Interactions;
  families: GrantFamilies;
  users: UsersGateway;
  guard: LoginGuard;
  ownOrigin: string;
  /** `tessera_logins_total{result}`, `tessera_login_lockouts_total{scope}`. */
  metrics?: AuthMetrics | undefined;
}

const LoginQuery = Type.Object({ interaction: Type.Optional(Type.String({ maxLength: 64 })) });
const LoginForm = Type.Object(
  {
    csrf: Type.Optional(Type.String({ maxLength: 128 })),
    interaction: Type.Optional(Type.String({ maxLength: 64 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

/**
 * `GET /login` shows the hosted login form; `POST /login` checks origin, CSRF token and the
 * brute-force guard, verifies the credentials with the user service, then starts a new session
 * (new cookie, SECURITY 24) and continues the pending authorization request with a 303.
 */
export function registerLoginRoutes(app: HttpServer, deps: LoginRouteDeps): void {
  app.get(PATHS.login, { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const current = await deps.sessions.ensure(request, reply);
    const id = request.query.interaction;
    const pending = id === undefined ? undefined : await deps.pending.load(current, id);
    if (id !== undefined && !pending) return sendExpiredRequest(reply);
    if (!pending && isSignedIn(current.session)) {
      const user = await deps.users.getUser(current.session.userId);
      if (user) return sendSignedInPage(reply, user.email, csrfToken(current.token));
    }
    return sendLoginPage(reply, 200, loginModel(current, pending));
  });

  app.post(
    PATHS.login,
    { schema: { consumes: PAGE_FORM_TYPES, body: LoginForm } },
    async (request, reply) => {
      const form = request.body;
      const check = await checkFormPost(request, deps.sessions, deps.ownOrigin, form.csrf);
      if (!check.ok) return sendForbiddenForm(reply);
      const current = check.current;
      const pending =
        form.interaction === undefined ? undefined : await deps.pending.load(current, form.interaction);
      if (form.interaction !== undefined && !pending) return sendExpiredRequest(reply);

      const email = (form.email ?? '').trim();
      const password = form.password ?? '';
      const verdict = await deps.guard.before(email, request.ip);
      if (!verdict.allowed) {
        deps.metrics?.logins.inc({ result: 'locked' });
        deps.metrics?.lockouts.inc({ scope: verdict.lockedBy });
        request.log.warn({ ip: request.ip }, 'login refused: too many failed attempts');
        reply.header('retry-after', String(verdict.retryAfterSeconds));
        return sendLoginPage(reply, 429, {
          ...loginModel(current, pending),
          email,
          error: TOO_MANY_ATTEMPTS,
        });
      }
      const verified = email && password ? await deps.users.verifyCredentials(email, password) : undefined;
      if (!verified) {
        deps.metrics?.logins.inc({ result: 'failure' });
        await deps.guard.failed(email, request.ip);
        return sendLoginPage(reply, 401, {
          ...loginModel(current, pending),
          email,
          error: INVALID_CREDENTIALS,
        });
      }
      deps.metrics?.logins.inc({ result: 'success' });
      await deps.guard.succeeded(email);
      await startSession(reply, deps, current, verified.userId);
      const next = pending
        ? pathWithQuery(PATHS.resume, { interaction: pending.interaction.id })
        : PATHS.login;
      return reply.header('cache-control', 'no-store').redirect(next, 303);
    },
  );
}

function loginModel(current: CurrentSession, pending: PendingRequest | undefined) {
  return {
    csrf: csrfToken(current.token),
    interaction: pending?.interaction.id,
    clientName: pending?.authz.client.name,
    formTargets: pending ? redirectOrigin(pending.authz) : [],
  };
}

/**
 * Replaces the browser's session with a new signed-in one (the old token dies: no fixation),
 * carrying over its pending requests and, for the same user, its grants (so logout still
 * finds them).
 */
async function startSession(
  reply: FastifyReply,
  deps: LoginRouteDeps,
  previous: CurrentSession,
  userId: string,
): Promise<void> {
  const next = await deps.sessions.signIn(reply, userId);
  await deps.interactions.rebind(previous.session.id, next.session.id);
  if (previous.session.userId === userId)
    await deps.families.rebindSession(previous.session.id, next.session.id);
  await deps.sessions.discard(previous.session);
}
