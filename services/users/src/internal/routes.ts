import { Type } from 'typebox';
import { requireScopes } from '@tessera/auth-middleware';
import { AppError, NotFoundError, type HttpServer } from '@tessera/kernel';
import { disabledTelemetry, type Telemetry } from '@tessera/telemetry';
import type { AuthzService } from '../authz/authz-service.ts';
import type { UsersDb } from '../db/database.ts';
import { loadMemberships } from '../authz/memberships.ts';
import { verifyPassword } from '../passwords/passwords.ts';
import { errorResponses, IdParams, Uuid } from '../schemas.ts';
import { findUserByEmail, findUserById } from '../users/repository.ts';

/** What the internal routes need. */
export interface InternalRoutesDeps {
  db: UsersDb;
  authz: AuthzService;
  telemetry?: Telemetry | undefined;
}

const Credentials = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const InternalUser = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    emailVerified: Type.Boolean(),
    name: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    passwordChangedAt: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
const OrgList = Type.Object(
  {
    organizations: Type.Array(
      Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
const Authz = Type.Object(
  {
    userId: Uuid,
    orgId: Uuid,
    orgSlug: Type.String(),
    roles: Type.Array(Type.String()),
    permissions: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

const invalidCredentials = () =>
  new AppError('invalid_credentials', 401, 'Unauthorized', { detail: 'invalid email or password' });

/**
 * `/internal/*`, for the auth service only (scope `internal`): credential checks, user profiles,
 * organizations and authz contexts (docs/internal-api.md).
 *
 * @example
 * await app.register(internalRoutes, { db, authz });
 */
export async function internalRoutes(app: HttpServer, deps: InternalRoutesDeps): Promise<void> {
  const { db, authz } = deps;
  const telemetry = deps.telemetry ?? disabledTelemetry('users');
  const internal = requireScopes('internal');

  app.post(
    '/internal/credentials/verify',
    {
      preHandler: internal,
      schema: {
        body: Credentials,
        response: { 200: Type.Object({ userId: Uuid }, { additionalProperties: false }), ...errorResponses },
      },
    },
    async (request) => {
      const user = await findUserByEmail(db, request.body.email);
      // Always one argon2id verification (a dummy one when the email is unknown), so the answer
      // takes the same time whether or not the account exists (SECURITY 22).
      const ok = await telemetry.span('password.verify', {}, () =>
        verifyPassword(user?.passwordHash ?? null, request.body.password),
      );
      if (!user || !ok || user.status !== 'active') throw invalidCredentials();
      return { userId: user.id };
    },
  );

  app.get(
    '/internal/users/:id',
    {
      preHandler: internal,
      schema: { params: IdParams, response: { 200: InternalUser, ...errorResponses } },
    },
    async (request) => {
      const user = await findUserById(db, request.params.id);
      if (!user) throw new NotFoundError('user_not_found', 'no user with this id');
      return {
        id: user.id,
        email: user.email,
        emailVerified: user.emailVerified,
        name: user.name,
        status: user.status,
        passwordChangedAt: user.passwordChangedAt?.toISOString() ?? null,
        updatedAt: user.updatedAt.toISOString(),
      };
    },
  );

  app.get(
    '/internal/users/:id/orgs',
    { preHandler: internal, schema: { params: IdParams, response: { 200: OrgList, ...errorResponses } } },
    async (request) => ({
      organizations: (await loadMemberships(db, request.params.id)).map((m) => m.organization),
    }),
  );

  app.get(
    '/internal/users/:id/authz',
    {
      preHandler: internal,
      schema: {
        params: IdParams,
        querystring: Type.Object({ org: Uuid }, { additionalProperties: false }),
        response: { 200: Authz, ...errorResponses },
      },
    },
    async (request) => {
      const context = await authz.get(request.params.id, request.query.org);
      if (!context)
        throw new NotFoundError('membership_not_found', 'the user is not a member of this organization');
      return context;
    },
  );
}
