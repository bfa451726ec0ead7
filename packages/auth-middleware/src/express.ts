/**
 * Express adapter with the semantics of the Fastify guards: 401 + `WWW-Authenticate` for a missing
 * or invalid token, 400 for malformed credentials, 403 `insufficient_scope` for a missing scope or
 * permission, 503 when the keys are unavailable; RFC 9457 problem bodies.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { authenticateRequest } from './bearer.ts';
import type { AccessTokenClaims } from './claims.ts';
import { checkRealm, TokenError } from './errors.ts';
import { assertAuthorized, checkRequirementNames } from './requirements.ts';
import type { TokenVerifier } from './verifier.ts';

/**
 * Options of {@link expressAuth}; every listed scope and permission is required.
 *
 * @example
 * const options: ExpressAuthOptions = { verifier, scopes: ['orders:read'] };
 */
export interface ExpressAuthOptions {
  verifier: TokenVerifier;
  scopes?: readonly string[];
  permissions?: readonly string[];
  /** The challenge's `realm` (default `tessera`). */
  realm?: string;
}

/**
 * An Express request after {@link expressAuth}: the claims are on `req.auth` (and `res.locals.auth`).
 *
 * @example
 * app.get('/me', expressAuth({ verifier }), (req, res) => {
 *   res.json({ sub: (req as AuthenticatedRequest).auth!.sub });
 * });
 */
export type AuthenticatedRequest = Request & { auth?: AccessTokenClaims };

/**
 * Express middleware: verifies the bearer token, checks the required scopes and permissions, and
 * puts the claims on `req.auth` and `res.locals.auth`. Options are checked here (TypeError).
 *
 * @example
 * app.get('/orders', expressAuth({ verifier, permissions: ['orders:read'] }), (req, res) => {
 *   res.json({ sub: res.locals.auth.sub });
 * });
 */
export function expressAuth(options: ExpressAuthOptions): RequestHandler {
  if (typeof options.verifier?.verify !== 'function')
    throw new TypeError('expressAuth: options.verifier must be a TokenVerifier');
  const realm = options.realm ?? 'tessera';
  checkRealm('expressAuth', realm);
  const requirements = { scopes: [...(options.scopes ?? [])], permissions: [...(options.permissions ?? [])] };
  checkRequirementNames('expressAuth', 'scopes', requirements.scopes);
  checkRequirementNames('expressAuth', 'permissions', requirements.permissions);

  return (req: Request, res: Response, next: NextFunction) => {
    const run = async () => {
      const claims = await authenticateRequest(options.verifier, req);
      assertAuthorized(claims, requirements);
      (req as AuthenticatedRequest).auth = claims;
      res.locals.auth = claims;
    };
    run().then(
      () => next(),
      (err: unknown) => {
        if (!(err instanceof TokenError)) {
          next(err);
          return;
        }
        const challenge = err.wwwAuthenticate(realm);
        if (challenge) res.setHeader('www-authenticate', challenge);
        if (err.status === 503) res.setHeader('retry-after', '5');
        res.status(err.status).type('application/problem+json').send(JSON.stringify(err.toProblem()));
      },
    );
  };
}
