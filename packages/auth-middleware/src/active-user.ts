/**
 * Access tokens are self-contained for their whole lifetime (5–15 minutes), so a user disabled or
 * deleted a moment ago still holds valid ones. A service whose writes must stop at once (creating
 * users, registering OAuth clients, rotating keys) checks, before each write made with a user's
 * token, that the user is still active, and refuses the token with 401 `invalid_token` otherwise.
 * Reads are left to the token's expiry: checking them would put a lookup on every cached read.
 * Tokens a client obtained for itself (`client:…`) or a service's (`service:…`) have no user.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { TokenError } from './errors.ts';
import { sendTokenError } from './fastify.ts';

/** A user's `sub`: the user's UUID. */
const USER_SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Appends the check to the `preHandler` chain of every write route registered on `app` (and its
 * children) after this call, behind the route's own authentication, which sets `request.auth`.
 * Routes without a preHandler (unauthenticated ones) are left alone.
 *
 * @example
 * requireActiveUserOnWrites(scope, async (userId) => (await users.getUser(userId))?.status === 'active');
 * registerClientAdminRoutes(scope, clients);
 */
export function requireActiveUserOnWrites(
  app: FastifyInstance,
  isActive: (userId: string) => Promise<boolean>,
): void {
  const check: preHandlerAsyncHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const sub = request.auth?.sub;
    if (!sub || !USER_SUB.test(sub)) return;
    if (await isActive(sub)) return;
    return sendTokenError(
      reply,
      new TokenError('invalid_token', 'the user of this token is disabled or deleted'),
    );
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.preHandler || !methods.some((method) => WRITES.has(method))) return;
    const own = Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...own, check];
  });
}
