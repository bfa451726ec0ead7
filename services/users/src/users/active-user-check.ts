import { eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendTokenError, TokenError } from '@tessera/auth-middleware';
import type { HttpServer } from '@tessera/kernel';
import type { UsersDb } from '../db/database.ts';
import { users } from '../db/schema.ts';

const USER_SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Access tokens are self-contained for up to their lifetime (5–15 min), so a user disabled or
 * deleted a moment ago still holds valid ones. Every write on this service made with a user's
 * token first checks, by primary key, that the user still exists and is active; the token is
 * refused (401 `invalid_token`) otherwise. Reads are not checked (they would cost the cached read
 * path a database round trip): they stop when the token expires. Client and service tokens
 * (`client:…`, `service:…`) have no user to check.
 *
 * Registered before the routes: it appends itself to each write route's `preHandler` chain, after
 * the route's own authentication has set `request.auth`.
 *
 * @example
 * requireActiveUserOnWrites(app, db);
 * await app.register(userRoutes, { db, authz });
 */
export function requireActiveUserOnWrites(app: HttpServer, db: UsersDb): void {
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    const sub = request.auth?.sub;
    if (!sub || !USER_SUB.test(sub)) return;
    const [row] = await db.select({ status: users.status }).from(users).where(eq(users.id, sub)).limit(1);
    if (row?.status === 'active') return;
    return sendTokenError(
      reply,
      new TokenError('invalid_token', 'the user of this token is disabled or deleted'),
    );
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.preHandler || !methods.some((m) => WRITES.has(m))) return;
    const own = Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...own, check];
  });
}
