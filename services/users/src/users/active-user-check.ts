import { eq } from 'drizzle-orm';
import { requireActiveUserOnWrites } from '@tessera/auth-middleware';
import type { HttpServer } from '@tessera/kernel';
import type { UsersDb } from '../db/database.ts';
import { users } from '../db/schema.ts';

/**
 * Every write on this service made with a user's token first checks, by primary key, that the
 * user still exists and is active; the token is refused (401 `invalid_token`) otherwise (see
 * `requireActiveUserOnWrites` in @tessera/auth-middleware for why reads are not checked).
 *
 * Registered before the routes: it appends itself to each write route's `preHandler` chain, after
 * the route's own authentication has set `request.auth`.
 *
 * @example
 * requireActiveUserOnUserWrites(app, db);
 * await app.register(userRoutes, { db, authz });
 */
export function requireActiveUserOnUserWrites(app: HttpServer, db: UsersDb): void {
  requireActiveUserOnWrites(app, async (userId) => {
    const [row] = await db.select({ status: users.status }).from(users).where(eq(users.id, userId)).limit(1);
    return row?.status === 'active';
  });
}
