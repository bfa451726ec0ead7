/**
 * Every input is validated by a schema at the edge, and a closed schema refuses what it does not
 * name. A route that declares no query schema, or no body schema, would instead ignore whatever
 * arrives there: `POST /v1/users/{id}/enable {"force":true}` would succeed, and the caller would
 * believe `force` meant something. Registered on a scope, this refuses, on every route added to
 * it afterwards, query parameters where no query schema is declared and a request body where no
 * body schema is declared (400 problem+json `unknown_parameter` / `unexpected_body`). An empty
 * JSON object or form counts as no body.
 *
 * Not for the protocol endpoints: OAuth and OpenID Connect require unknown parameters to be ignored.
 *
 * @example
 * refuseUndeclaredInput(app);
 * await app.register(userRoutes, { db });
 */
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify';
import { BadRequestError } from './errors.ts';
import { appendedHandlers, routeMethods } from './route-hooks.ts';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null || body === '') return true;
  return (
    typeof body === 'object' &&
    !Array.isArray(body) &&
    !Buffer.isBuffer(body) &&
    Object.keys(body).length === 0
  );
}

const noQuery: preValidationHookHandler = (request: FastifyRequest, _reply, done) => {
  const names = Object.keys((request.query as object | undefined) ?? {});
  if (names.length === 0) return done();
  done(
    new BadRequestError(
      'unknown_parameter',
      `this operation takes no query parameters (got "${names[0]!.slice(0, 64)}")`,
    ),
  );
};

const noBody: preValidationHookHandler = (request: FastifyRequest, _reply, done) => {
  if (isEmptyBody(request.body)) return done();
  done(new BadRequestError('unexpected_body', 'this operation takes no request body'));
};

/**
 * Adds the refusals to the routes registered on `app` (and its children) from now on.
 *
 * @example
 * refuseUndeclaredInput(scope);
 */
export function refuseUndeclaredInput(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema ?? {};
    const checks: preValidationHookHandler[] = [];
    if (!schema.querystring) checks.push(noQuery);
    if (!schema.body && routeMethods(route).some((method) => BODY_METHODS.has(method))) checks.push(noBody);
    if (checks.length === 0) return;
    route.preValidation = appendedHandlers(route.preValidation, ...checks);
  });
}
