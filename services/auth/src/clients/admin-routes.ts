/**
 * The clients admin API, `/v1/clients` (bearer token with `clients:read` / `clients:write`
 * permissions, checked by @tessera/auth-middleware). A secret appears in exactly two responses:
 * the creation and the rotation that produced it; it is never readable afterwards.
 */
import { Type, type Static } from 'typebox';
import {
  DISPLAY_TEXT_PATTERN,
  ForbiddenError,
  isManagementPermission,
  NotFoundError,
  type HttpServer,
} from '@tessera/kernel';
import { requirePermissions, type AccessTokenClaims } from '@tessera/auth-middleware';
import type { ClientRepository } from './repository.ts';

const Uri = Type.String({ minLength: 1, maxLength: 2000 });
const Scope = Type.String({ minLength: 1, maxLength: 100 });
const ClientIdParam = Type.Object(
  { clientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }) },
  { additionalProperties: false },
);

/**
 * A JWK as registered: RFC 7517 §4 lets a JWK carry members beyond the registered ones (which
 * must be ignored, not refused), so its members stay open; the stored keys are shown as given.
 * (TypeBox emits a record's key schema as a `patternProperties` pattern only: no key length limit.)
 */
const Jwk = Type.Record(Type.String(), Type.Unknown());

export const ClientBody = Type.Object(
  {
    clientId: Type.Optional(
      Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]+$' }),
    ),
    /** Shown on the consent page: display text, no control or bidirectional-override characters. */
    name: Type.String({ minLength: 1, maxLength: 200, pattern: DISPLAY_TEXT_PATTERN }),
    type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
    tokenEndpointAuthMethod: Type.Optional(
      Type.Union([
        Type.Literal('none'),
        Type.Literal('client_secret_basic'),
        Type.Literal('client_secret_post'),
        Type.Literal('private_key_jwt'),
      ]),
    ),
    redirectUris: Type.Optional(Type.Array(Uri, { maxItems: 20 })),
    postLogoutRedirectUris: Type.Optional(Type.Array(Uri, { maxItems: 20 })),
    grantTypes: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('authorization_code'),
          Type.Literal('refresh_token'),
          Type.Literal('client_credentials'),
        ]),
        { maxItems: 3 },
      ),
    ),
    scopes: Type.Optional(Type.Array(Scope, { maxItems: 100 })),
    audiences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20 })),
    accessTokenTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600 })),
    refreshTokenIdleTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 31_536_000 })),
    refreshTokenAbsoluteTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 31_536_000 })),
    firstParty: Type.Optional(Type.Boolean()),
    /** OIDC `id_token_signed_response_alg`; must be one the issuer offers (discovery lists them). */
    idTokenSignedResponseAlg: Type.Optional(
      Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA'), Type.Literal('RS256')]),
    ),
    jwks: Type.Optional(
      Type.Object(
        {
          keys: Type.Array(Jwk, { minItems: 1, maxItems: 10 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ClientBodyType = Static<typeof ClientBody>;

/** `ClientRecord`: the protocol view (`toOAuthClient`) plus bookkeeping; never the secret hash. */
const ClientView = Type.Object(
  {
    clientId: Type.String(),
    name: Type.String(),
    type: Type.String(),
    tokenEndpointAuthMethod: Type.String(),
    redirectUris: Type.Array(Type.String()),
    postLogoutRedirectUris: Type.Array(Type.String()),
    grantTypes: Type.Array(Type.String()),
    scopes: Type.Array(Type.String()),
    audiences: Type.Array(Type.String()),
    accessTokenTtlSeconds: Type.Integer(),
    refreshTokenIdleTtlSeconds: Type.Integer(),
    refreshTokenAbsoluteTtlSeconds: Type.Integer(),
    firstParty: Type.Boolean(),
    jwks: Type.Optional(Type.Object({ keys: Type.Array(Jwk) }, { additionalProperties: false })),
    idTokenSignedResponseAlg: Type.Optional(Type.String()),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    secretRotatedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
const WithSecret = Type.Object(
  { client: ClientView, clientSecret: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

const notFound = () => new NotFoundError('client_not_found', 'no client with this id');

/**
 * A client's scopes become its tokens' permissions (client_credentials), so registering a client,
 * or taking over one by rotating its secret, hands out its scopes. `clients:write` alone must not
 * turn into `users:write` or `internal`: every management scope of the client must be a permission
 * the caller's token holds (docs/adr/0015-client-scopes-held-by-caller.md). Application scopes
 * (`invoices:approve`) are not Tessera's to guard.
 */
function assertCallerHolds(auth: AccessTokenClaims | undefined, scopes: readonly string[]): void {
  const held = auth?.permissions ?? [];
  const missing = scopes.filter((scope) => isManagementPermission(scope) && !held.includes(scope));
  if (missing.length === 0) return;
  throw new ForbiddenError(
    'scope_not_held',
    `${[...new Set(missing)].slice(0, 5).join(', ')}: a client can be given Tessera's management scopes only by a caller whose token holds them`,
  );
}

/**
 * Registers `/v1/clients` on a scope where `fastifyAuth` is registered.
 *
 * @example
 * registerClientAdminRoutes(scope, repository);
 */
export function registerClientAdminRoutes(
  app: HttpServer,
  clients: ClientRepository,
  /** Revokes the grants of a deleted client (its refresh tokens and their access tokens). */
  revokeGrants?: (clientId: string) => Promise<unknown>,
): void {
  const read = requirePermissions('clients:read');
  const write = requirePermissions('clients:write');

  app.get(
    '/v1/clients',
    {
      preHandler: read,
      schema: {
        response: { 200: Type.Object({ clients: Type.Array(ClientView) }, { additionalProperties: false }) },
      },
    },
    async () => ({ clients: await clients.list() }),
  );

  app.get(
    '/v1/clients/:clientId',
    { preHandler: read, schema: { params: ClientIdParam, response: { 200: ClientView } } },
    async (request) => {
      const client = await clients.get(request.params.clientId);
      if (!client) throw notFound();
      return client;
    },
  );

  app.post(
    '/v1/clients',
    { preHandler: write, schema: { body: ClientBody, response: { 201: WithSecret } } },
    async (request, reply) => {
      assertCallerHolds(request.auth, request.body.scopes ?? []);
      const { client, secret } = await clients.create(request.body);
      void reply
        .code(201)
        .header('cache-control', 'no-store')
        .header('location', `/v1/clients/${client.clientId}`);
      return secret === undefined ? { client } : { client, clientSecret: secret };
    },
  );

  app.post(
    '/v1/clients/:clientId/rotate-secret',
    { preHandler: write, schema: { params: ClientIdParam, response: { 200: WithSecret } } },
    async (request, reply) => {
      const existing = await clients.get(request.params.clientId);
      if (!existing) throw notFound();
      assertCallerHolds(request.auth, existing.scopes);
      const { client, secret } = await clients.rotateSecret(request.params.clientId);
      void reply.header('cache-control', 'no-store');
      return { client, clientSecret: secret };
    },
  );

  app.delete(
    '/v1/clients/:clientId',
    { preHandler: write, schema: { params: ClientIdParam, response: { 204: Type.Null() } } },
    async (request, reply) => {
      if (!(await clients.delete(request.params.clientId))) throw notFound();
      await revokeGrants?.(request.params.clientId);
      return reply.code(204).send(null);
    },
  );
}
