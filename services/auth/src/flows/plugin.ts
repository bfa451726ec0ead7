import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { parseForm } from '../oauth/form-parser.ts';
import type { HttpServer } from '@tessera/kernel';
import type { GrantHandler, RefreshTokenStore } from '../contracts.ts';
import { ConsentStore } from '../consent/store.ts';
import { registerConsentRoutes } from '../consent/route.ts';
import { AuthorizationCodes } from '../grants/codes.ts';
import { GrantFamilies } from '../grants/families.ts';
import { GrantRefreshTokenStore } from '../grants/refresh-token-store.ts';
import { RefreshTokens } from '../grants/refresh-tokens.ts';
import { MemoryAttemptCounters, RedisAttemptCounters } from '../login/attempt-counters.ts';
import { LoginGuard } from '../login/login-guard.ts';
import { registerLoginRoutes } from '../login/route.ts';
import { registerOrganizationRoutes } from '../login/organization-route.ts';
import { AuthorizeFlow } from '../oauth/authorize/flow.ts';
import { Interactions } from '../oauth/authorize/interactions.ts';
import { PendingRequests } from '../oauth/authorize/pending.ts';
import { registerAuthorizeRoutes } from '../oauth/authorize/route.ts';
import { registerLogoutRoutes } from '../oauth/logout/route.ts';
import { registerUserinfoRoutes } from '../oauth/userinfo/route.ts';
import { PATHS } from './paths.ts';
import { createAuthorizationCodeGrant } from '../oauth/token/grants/authorization-code.ts';
import { createRefreshTokenGrant } from '../oauth/token/grants/refresh-token.ts';
import { BrowserSessions } from '../sessions/browser.ts';
import { SessionCookie } from '../sessions/cookie.ts';
import { SessionStore } from '../sessions/store.ts';
import { assertFlowConfig, type FlowDeps } from './deps.ts';
import { pageErrorHandler } from '../login/page-errors.ts';

/** What `app.ts` plugs in: the pages and endpoints, two grant handlers, and the refresh-token store. */
export interface Flows {
  /** Registers every route of the flows on `app` (call inside `app.register`). */
  routes: (app: HttpServer) => Promise<void>;
  /** `authorization_code` and `refresh_token`, for the token endpoint's GrantHandler list. */
  grantHandlers: GrantHandler[];
  /** For the introspection and revocation endpoints. */
  refreshTokenStore: RefreshTokenStore;
  /**
   * Deletes expired sessions, pending requests, access-token records and old grants; call it
   * periodically (every few minutes) from one place. Returns the counts for a log line.
   */
  purgeExpired: () => Promise<PurgeCounts>;
}

/** What {@link Flows.purgeExpired} deleted. */
export interface PurgeCounts {
  sessions: number;
  interactions: number;
  families: number;
  accessTokens: number;
}

/** How long an expired or revoked grant is kept so that a replay of its tokens is still recognised. */
const GRANT_RETENTION_MS = 24 * 3600 * 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Builds the user-facing flows of the auth service (login, sessions, consent, authorize,
 * logout, userinfo, code and refresh grants) from their dependencies.
 *
 * @example
 * const flows = createFlows({ db, clock, clients, users, signer, denylist, jwks, config });
 * await app.register(async (scope) => flows.routes(scope));
 * const grants = [...flows.grantHandlers, clientCredentialsGrant];
 */
export function createFlows(deps: FlowDeps): Flows {
  assertFlowConfig(deps.config);
  const { db, clock, config } = deps;
  const ownOrigin = new URL(config.issuer).origin;
  const issuer = config.issuer;

  const sessions = new BrowserSessions(
    new SessionStore(db, clock, {
      ttlSeconds: config.sessionTtlSeconds,
      anonymousTtlSeconds: config.interactionTtlSeconds,
    }),
    new SessionCookie(issuer),
  );
  const families = new GrantFamilies(db, clock, deps.denylist, deps.logger, deps.metrics);
  const codes = new AuthorizationCodes(db, clock);
  const refreshTokens = new RefreshTokens(db, clock);
  const consents = new ConsentStore(db, clock);
  const interactions = new Interactions(db, clock, config.interactionTtlSeconds);
  const counters = deps.redis
    ? new RedisAttemptCounters(deps.redis, deps.redisKeyPrefix ?? 'tessera:auth:')
    : new MemoryAttemptCounters(clock);
  const guard = new LoginGuard(counters, config.loginGuard, sleep);
  const flow = new AuthorizeFlow({
    clients: deps.clients,
    users: deps.users,
    consents,
    interactions,
    sessions,
    families,
    codes,
    clock,
    issuer,
    jwks: deps.jwks,
    codeTtlSeconds: config.codeTtlSeconds,
  });
  const pending = new PendingRequests(interactions, flow);
  // Userinfo takes tokens for the platform API or for itself (its URL).
  const userinfoAudiences = { api: config.apiAudience, userinfo: `${issuer}${PATHS.userinfo}` };
  const issuerDeps = {
    signer: deps.signer,
    families,
    users: deps.users,
    issuer,
    idTokenTtlSeconds: config.idTokenTtlSeconds,
    userinfoAudiences,
    clock,
    refreshTokens,
  };

  return {
    async routes(app) {
      if (!app.hasRequestDecorator('cookies')) await app.register(cookie);
      if (!app.hasContentTypeParser('application/x-www-form-urlencoded'))
        await app.register(formbody, { parser: parseForm });
      // The browser pages answer their refusals as pages (login/page-errors.ts).
      await app.register(async (pages) => {
        pages.setErrorHandler(pageErrorHandler);
        registerAuthorizeRoutes(pages, { flow, sessions, interactions });
        registerLoginRoutes(pages, {
          sessions,
          pending,
          interactions,
          families,
          users: deps.users,
          guard,
          ownOrigin,
          metrics: deps.metrics,
        });
        registerOrganizationRoutes(pages, { sessions, pending, users: deps.users, ownOrigin });
        registerConsentRoutes(pages, { sessions, pending, consents, flow, ownOrigin });
        registerLogoutRoutes(pages, {
          sessions,
          families,
          clients: deps.clients,
          jwks: deps.jwks,
          issuer,
          ownOrigin,
        });
      });
      registerUserinfoRoutes(app, {
        users: deps.users,
        jwks: deps.jwks,
        denylist: deps.denylist,
        issuer,
        audiences: [userinfoAudiences.api, userinfoAudiences.userinfo],
        clock,
      });
    },
    grantHandlers: [
      createAuthorizationCodeGrant({ ...issuerDeps, codes }),
      createRefreshTokenGrant({ ...issuerDeps, telemetry: deps.telemetry }),
    ],
    refreshTokenStore: new GrantRefreshTokenStore(refreshTokens, families, clock),
    async purgeExpired() {
      // Interactions first: deleting a session would cascade to its requests uncounted.
      const deletedInteractions = await interactions.deleteExpired();
      const deletedSessions = await sessions.store.deleteExpired();
      const grants = await families.deleteExpired(GRANT_RETENTION_MS);
      return { sessions: deletedSessions, interactions: deletedInteractions, ...grants };
    },
  };
}
