/**
 * The answers of an authenticated API (users, their memberships, OAuth clients, keys) are about
 * someone and for one caller: no cache, private or shared, should keep them (OWASP REST Security
 * Cheat Sheet, "Security headers"). Registered on a scope, every answer of its routes that does
 * not set `Cache-Control` itself gets `Cache-Control: no-store`.
 *
 * @example
 * keepResponsesPrivate(api);
 * await api.register(userRoutes, { db });
 */
import type { FastifyInstance } from 'fastify';

export function keepResponsesPrivate(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
