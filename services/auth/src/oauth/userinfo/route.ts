import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { extractBearer, TokenError } from '@tessera/auth-middleware';
import type { Clock, HttpServer } from '@tessera/kernel';
import type { AccessTokenDenylist, UsersGateway } from '../../contracts.ts';
import type { JwksSource } from '../../flows/deps.ts';
import { PATHS } from '../../flows/paths.ts';
import { readOAuthForm } from '../form.ts';
import { verifyAccessToken } from './access-token.ts';

/** Dependencies of {@link registerUserinfoRoutes}. */
export interface UserinfoRouteDeps {
  users: UsersGateway;
  jwks: JwksSource;
  denylist: AccessTokenDenylist;
  issuer: string;
  /**
   * The audiences a token must name one of (RFC 9068 §4): the platform API's and userinfo's URL.
   * A token made for another resource only (RFC 8707) is not for userinfo.
   */
  audiences: string[];
  clock: Clock;
}

/** RFC 6750 §3.1 error codes this endpoint answers with. */
type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** A form body carries one access token (8 KiB at most, SECURITY 18) and little else. */
const MAX_FORM_BYTES = 16 * 1024;

/**
 * RFC 6750 §2.2 body: `access_token` is a b64token like the header's credential (§2.1), empty
 * meaning omitted (as in every OAuth form here, `../form.ts`). The body may carry other
 * request-specific parameters (§2.2), so the object stays open: they are ignored, as OAuth
 * endpoints ignore unknown parameters, but must be single text values, at most 32 of them.
 * No value can be longer than the body limit; a token over 8 KiB is refused as invalid_token by
 * `verifyAccessToken`, like a header token, not as a malformed body.
 */
const FormValue = Type.String({ maxLength: MAX_FORM_BYTES });
const UserinfoForm = Type.Object(
  {
    access_token: Type.Optional(
      Type.String({ maxLength: MAX_FORM_BYTES, pattern: '^(?:[A-Za-z0-9\\-._~+/]+=*)?$' }),
    ),
  },
  { additionalProperties: FormValue, maxProperties: 32 },
);

/**
 * OIDC Core §5.3.2 answer: `sub` plus the claims the token's scopes allow (today `email` and
 * `email_verified` for email, `name` for profile). UserInfo claims are open-ended by design (§5.1,
 * §5.1.2: a provider may return any claim, clients must ignore those they do not understand), so
 * the object is documented open: a claim added to the handler is never silently dropped by the
 * response serializer.
 */
const UserinfoResponse = Type.Object(
  {
    sub: Type.String(),
    email: Type.Optional(Type.String()),
    email_verified: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

const CHALLENGE = 'Bearer realm="tessera"';

/** RFC 6750 §3.1: a request without any credentials gets a bare challenge, no error code. */
function sendChallenge(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', CHALLENGE).header('cache-control', 'no-store').send();
}

/** RFC 6750 §3.1 error; 413 only for a body over the limit (an `invalid_request` all the same). */
function bearerError(
  reply: FastifyReply,
  status: 400 | 401 | 403 | 413,
  error: BearerErrorCode,
  description: string,
): FastifyReply {
  return reply
    .code(status)
    .header('www-authenticate', `${CHALLENGE}, error="${error}", error_description="${description}"`)
    .header('cache-control', 'no-store')
    .send({ error, error_description: description });
}

/** Why a request's credentials are unusable (→ 400 invalid_request), or its token if any. */
type Credentials = { token: string | undefined } | { malformed: string };

/**
 * The access token from the `Authorization` header (RFC 6750 §2.1) or, for a form POST, the
 * `access_token` body parameter (§2.2). A header that is not one well-formed Bearer credential,
 * and a token sent both ways (§2: "MUST NOT use more than one method"), are malformed requests.
 */
function readCredentials(request: FastifyRequest, body: unknown): Credentials {
  const header = request.raw.headersDistinct.authorization;
  let headerToken: string | undefined;
  if (header !== undefined) {
    try {
      headerToken = extractBearer(header);
    } catch (err) {
      if (err instanceof TokenError) return { malformed: err.message };
      throw err;
    }
    if (headerToken === undefined) return { malformed: 'the Authorization scheme must be Bearer' };
  }
  const contentType = request.headers['content-type'];
  const bodyToken =
    contentType !== undefined && FORM_TYPE.test(contentType)
      ? readOAuthForm(body, []).params.access_token
      : undefined;
  if (headerToken !== undefined && bodyToken !== undefined)
    return { malformed: 'the access token must be sent by one method only' };
  return { token: headerToken ?? bodyToken };
}

/**
 * `GET|POST /oauth2/userinfo` (OIDC Core §5.3): with a valid bearer access token that has the
 * `openid` scope, returns `sub` plus the claims its scopes allow (`email`, `email_verified` for
 * email, `name` for profile), read fresh from the user service. The token comes in the
 * `Authorization` header or, on POST, as a form parameter; errors per RFC 6750 §3.
 */
export function registerUserinfoRoutes(app: HttpServer, deps: UserinfoRouteDeps): void {
  const respond = async (request: FastifyRequest, reply: FastifyReply, body: unknown) => {
    const credentials = readCredentials(request, body);
    if ('malformed' in credentials) return bearerError(reply, 400, 'invalid_request', credentials.malformed);
    if (credentials.token === undefined) return sendChallenge(reply);
    const token = await verifyAccessToken(credentials.token, { ...deps, now: deps.clock.now() });
    if (!token) return bearerError(reply, 401, 'invalid_token', 'the access token is invalid or expired');
    if (!token.scopes.includes('openid'))
      return bearerError(reply, 403, 'insufficient_scope', 'requires the openid scope');
    const user = await deps.users.getUser(token.sub);
    if (!user || user.status !== 'active')
      return bearerError(reply, 401, 'invalid_token', 'the user is no longer active');
    const claims: Record<string, unknown> = { sub: user.id };
    if (token.scopes.includes('email')) {
      claims.email = user.email;
      claims.email_verified = user.emailVerified;
    }
    if (token.scopes.includes('profile') && user.name !== null) claims.name = user.name;
    return reply.header('cache-control', 'no-store').send(claims);
  };

  // RFC 6750 §2.2: a GET never carries the token in a body.
  // The handlers settle once the reply is sent (awaiting a reply waits for it), as before.
  app.get(PATHS.userinfo, { schema: { response: { 200: UserinfoResponse } } }, async (request, reply) => {
    await respond(request, reply, undefined);
  });
  app.post(
    PATHS.userinfo,
    {
      bodyLimit: MAX_FORM_BYTES,
      // A body refused before the handler (a NUL in a value, too large) is still a Bearer error
      // (RFC 6750 §3.1: invalid_request with a WWW-Authenticate challenge), not a problem document.
      errorHandler: (error: Error & { statusCode?: number; status?: number }, _request, reply) => {
        const status = error.statusCode ?? error.status ?? 500;
        if (status >= 500) throw error;
        if (status === 413) void bearerError(reply, 413, 'invalid_request', 'the request body is too large');
        else void bearerError(reply, 400, 'invalid_request', 'the request body is malformed');
      },
      // Only a form body can carry the token; any other body (or none) is not looked at.
      schema: {
        body: { content: { 'application/x-www-form-urlencoded': { schema: UserinfoForm } } },
        response: { 200: UserinfoResponse },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError)
        await bearerError(reply, 400, 'invalid_request', 'the request body is malformed');
      else await respond(request, reply, request.body);
    },
  );
}
