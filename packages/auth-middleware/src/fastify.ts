/**
 * Fastify adapter: a plugin that registers the verifier, and route preHandlers that authenticate
 * and check scopes or permissions. Failures answer 400/401/403 (503 when the keys are unavailable)
 * with RFC 6750 `WWW-Authenticate` and an RFC 9457 problem body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { authenticateRequest } from './bearer.ts';
import type { AccessTokenClaims } from './claims.ts';
import { checkRealm, TokenError } from './errors.ts';
import { KeySetUnavailable } from './remote-key-set.ts';
import { assertAuthorized, checkRequirementNames, type Requirements } from './requirements.ts';
import type { TokenVerifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token's claims, set by the auth preHandlers; undefined on unguarded routes. */
    auth: AccessTokenClaims | undefined;
  }
  interface FastifyInstance {
    /** The verifier registered by `fastifyAuth`. */
    tokenVerifier: TokenVerifier;
    /** preHandler requiring a valid token (same as the exported `authenticate`). */
    requireAuth(): preHandlerAsyncHookHandler;
    /** preHandler requiring a valid token granted every listed scope. */
    requireScopes(...scopes: string[]): preHandlerAsyncHookHandler;
    /** preHandler requiring a valid token holding every listed permission. */
    requirePermissions(...permissions: string[]): preHandlerAsyncHookHandler;
  }
}

/**
 * Options of {@link fastifyAuth}.
 *
 * @example
 * await app.register(fastifyAuth, { verifier, realm: 'orders' } satisfies FastifyAuthOptions);
 */
export interface FastifyAuthOptions {
  verifier: TokenVerifier;
  /** The challenge's `realm` (default `tessera`). */
  realm?: string;
}

const kRealm = Symbol('tessera.auth.realm');

/**
 * Registers the token verifier on a Fastify instance (not encapsulated: routes of the registering
 * scope and its children can use the guards). Decorates `request.auth` and the instance with
 * `requireAuth()`, `requireScopes(...)` and `requirePermissions(...)`, which return the same
 * preHandlers as the exported {@link authenticate}, {@link requireScopes} and
 * {@link requirePermissions}.
 *
 * @example
 * await app.register(fastifyAuth, { verifier });
 * app.get('/v1/me', { preHandler: app.requireAuth() }, async (req) => ({ sub: req.auth!.sub }));
 * app.get('/v1/users', { preHandler: requirePermissions('users:read') }, listUsers);
 */
export const fastifyAuth = fp<FastifyAuthOptions>(
  async (app: FastifyInstance, options) => {
    if (typeof options.verifier?.verify !== 'function')
      throw new TypeError('fastifyAuth: options.verifier must be a TokenVerifier');
    const realm = options.realm ?? 'tessera';
    checkRealm('fastifyAuth', realm);
    app.decorate('tokenVerifier', options.verifier);
    app.decorate(kRealm, realm);
    app.decorate('requireAuth', () => authenticate);
    app.decorate('requireScopes', requireScopes);
    app.decorate('requirePermissions', requirePermissions);
    app.decorateRequest('auth', undefined);
  },
  { name: '@tessera/auth-middleware', fastify: '5.x' },
);

/**
 * Sends a {@link TokenError}: status, `WWW-Authenticate` (for 400/401/403), `Retry-After` (for
 * 503) and the problem+json body. For code outside the preHandlers, e.g. a gateway.
 *
 * @example
 * try { claims = await verifier.verify(token); }
 * catch (err) { if (err instanceof TokenError) return sendTokenError(reply, err); throw err; }
 */
export function sendTokenError(reply: FastifyReply, err: TokenError, realm = 'tessera'): FastifyReply {
  const challenge = err.wwwAuthenticate(realm);
  if (challenge) void reply.header('www-authenticate', challenge);
  if (err.status === 503) void reply.header('retry-after', '5');
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  return reply.code(err.status).type('application/problem+json').send(err.toProblem(reply.request.id));
}

function guard(requirements: Requirements): preHandlerAsyncHookHandler {
  return async function tesseraAuthGuard(request: FastifyRequest, reply: FastifyReply) {
    const server = request.server as FastifyInstance & { [kRealm]?: string };
    if (!server.tokenVerifier)
      throw new Error('@tessera/auth-middleware: register fastifyAuth before using its guards');
    try {
      // A second guard on the same route reuses the first one's result.
      request.auth ??= await authenticateRequest(server.tokenVerifier, request.raw);
      assertAuthorized(request.auth, requirements);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      if (err.status >= 500)
        request.log.warn({ code: err.code, cause: describeCause(err.cause) }, 'token check unavailable');
      return sendTokenError(reply, err, server[kRealm]);
    }
  };
}

/** Our own messages only: a hook's error (e.g. a database error) may carry query parameters. */
function describeCause(cause: unknown): string | undefined {
  if (cause instanceof KeySetUnavailable) return cause.message;
  return cause instanceof Error ? cause.name : undefined;
}

/**
 * preHandler: requires a valid access token and sets `request.auth` (401 otherwise).
 *
 * @example
 * app.get('/v1/users/me', { preHandler: authenticate }, async (req) => req.auth!.sub);
 */
export const authenticate: preHandlerAsyncHookHandler = guard({});

/**
 * preHandler: requires a valid token granted every listed scope; 403 `insufficient_scope` with a
 * `scope` attribute otherwise. Scope names are checked when the route is declared (TypeError).
 *
 * @example
 * app.get('/internal/users/:id', { preHandler: requireScopes('internal') }, handler);
 */
export function requireScopes(...scopes: string[]): preHandlerAsyncHookHandler {
  checkRequirementNames('requireScopes', 'the scopes', scopes);
  return guard({ scopes });
}

/**
 * preHandler: requires a valid token whose `permissions` claim holds every listed permission;
 * 403 `insufficient_scope` otherwise.
 *
 * @example
 * app.post('/v1/users', { preHandler: requirePermissions('users:write') }, handler);
 */
export function requirePermissions(...permissions: string[]): preHandlerAsyncHookHandler {
  checkRequirementNames('requirePermissions', 'the permissions', permissions);
  return guard({ permissions });
}
