import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { authenticate, hasPermissions, requirePermissions } from '@tessera/auth-middleware';
import {
  AppError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type HttpServer,
} from '@tessera/kernel';
import type { AuthzService } from '../authz/authz-service.ts';
import type { UsersDb } from '../db/database.ts';
import { keepingAnAdministrator } from '../orgs/administrators.ts';
import { hashPassword, verifyPassword } from '../passwords/passwords.ts';
import {
  Cursor,
  decodeCursor,
  Email,
  encodeCursor,
  errorResponses,
  IdParams,
  Limit,
  Name,
  NewPassword,
  Password,
  UserView,
  UserWithMemberships,
  Uuid,
} from '../schemas.ts';
import {
  deleteUser,
  findUserById,
  insertUser,
  listUsers,
  updateUser,
  type UserChanges,
} from './repository.ts';
import { loadUserWithMemberships } from './load-user-view.ts';
import { serializeOnce } from './serialize-once.ts';
import { toUserView } from './view.ts';

type SendView = ReturnType<typeof serializeOnce>;

/** What the user routes need. */
export interface UserRoutesDeps {
  db: UsersDb;
  authz: AuthzService;
  /** Told when a user is disabled or deleted (the platform revokes their grants at auth). */
  onUserDeactivated?: ((userId: string) => Promise<void>) | undefined;
}

const Include = Type.Object(
  { include: Type.Optional(Type.Literal('memberships')) },
  { additionalProperties: false },
);

const CreateUser = Type.Object(
  {
    email: Email,
    password: Type.Optional(NewPassword),
    name: Type.Optional(Name),
    emailVerified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const AdminUpdate = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Type.Union([Name, Type.Null()])),
    password: Type.Optional(NewPassword),
    emailVerified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

// Self-service: status, email_verified, roles and ids are not settable here (mass assignment).
const SelfUpdate = Type.Object(
  {
    name: Type.Optional(Type.Union([Name, Type.Null()])),
    password: Type.Optional(NewPassword),
    currentPassword: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    // Only characters an address can hold (the `email` format's): spaces, `;`, `"`, `\`, `(`… → 400.
    email_prefix: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, pattern: "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]+$" }),
    ),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    org: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const UserPage = Type.Object(
  { items: Type.Array(UserView), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);

/**
 * `/v1/users`: administration with `users:read`/`users:write`, and `/v1/users/me` for the
 * token's own user without any permission.
 *
 * @example
 * await app.register(userRoutes, { db, authz });
 */
export async function userRoutes(app: HttpServer, deps: UserRoutesDeps): Promise<void> {
  const { db, authz } = deps;

  /** The user, or with `include=memberships` the cached full view, sent as JSON serialized once per cached view. */
  const withMemberships = async (reply: FastifyReply, send: SendView, id: string, include: boolean) => {
    if (!include) {
      const row = await findUserById(db, id);
      if (!row) throw new NotFoundError('user_not_found', 'no user with this id');
      return toUserView(row);
    }
    const view = await authz.userView(id, () => loadUserWithMemberships(db, id, authz.adminOrg));
    if (!view) throw new NotFoundError('user_not_found', 'no user with this id');
    return send(reply, view);
  };
  const sendMe = serializeOnce();
  const sendUser = serializeOnce();

  const applyPasswordChange = async (changes: UserChanges, password: string | undefined) => {
    if (password === undefined) return;
    changes.passwordHash = await hashPassword(password);
    changes.passwordChangedAt = new Date();
  };

  app.get(
    '/v1/users',
    {
      preHandler: requirePermissions('users:read'),
      schema: { querystring: ListQuery, response: { 200: UserPage, ...errorResponses } },
    },
    async (request) => {
      const q = request.query;
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (q.cursor !== undefined && !after)
        throw new BadRequestError('invalid_cursor', 'the cursor is not one this server issued');
      const limit = q.limit ?? 50;
      const rows = await listUsers(db, {
        limit: limit + 1,
        after,
        emailPrefix: q.email_prefix,
        status: q.status,
        orgId: q.org,
      });
      const page = rows.slice(0, limit);
      return {
        items: page.map(toUserView),
        nextCursor: rows.length > limit && page.length ? encodeCursor(page[page.length - 1]!.id) : null,
      };
    },
  );

  app.post(
    '/v1/users',
    {
      preHandler: requirePermissions('users:write'),
      schema: { body: CreateUser, response: { 201: UserView, ...errorResponses } },
    },
    async (request, reply) => {
      const body = request.body;
      const passwordHash = body.password === undefined ? null : await hashPassword(body.password);
      const row = await insertUser(db, {
        email: body.email,
        name: body.name,
        passwordHash,
        emailVerified: body.emailVerified,
      });
      return reply.code(201).header('location', `/v1/users/${row.id}`).send(toUserView(row));
    },
  );

  app.get(
    '/v1/users/me',
    {
      preHandler: authenticate,
      schema: { querystring: Include, response: { 200: UserWithMemberships, ...errorResponses } },
    },
    async (request, reply) =>
      withMemberships(reply, sendMe, selfId(request.auth?.sub), request.query.include === 'memberships'),
  );

  app.patch(
    '/v1/users/me',
    {
      preHandler: authenticate,
      schema: { body: SelfUpdate, response: { 200: UserView, ...errorResponses } },
    },
    async (request) => {
      const id = selfId(request.auth?.sub);
      const body = request.body;
      if (body.name === undefined && body.password === undefined) {
        throw new BadRequestError(
          'nothing_to_change',
          'send name or password (currentPassword only confirms a new password)',
        );
      }
      const changes: UserChanges = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.password !== undefined) {
        const current = await findUserById(db, id);
        if (!current) throw new NotFoundError('user_not_found', 'no user with this id');
        if (
          current.passwordHash &&
          !(await verifyPassword(current.passwordHash, body.currentPassword ?? ''))
        ) {
          throw new ForbiddenError(
            'current_password_mismatch',
            'the current password is required and must be correct',
          );
        }
      }
      await applyPasswordChange(changes, body.password);
      const row = await updateUser(db, id, changes);
      await authz.invalidateUser(id);
      return toUserView(row);
    },
  );

  // `me` is not an id: without this, DELETE /v1/users/me would reach the :id route and fail as a bad uuid.
  app.route({
    method: ['DELETE', 'POST', 'PUT'],
    url: '/v1/users/me',
    schema: { hide: true },
    handler: async (request) => {
      throw new AppError('method_not_allowed', 405, 'Method Not Allowed', {
        detail: `${request.method} is not supported on your own profile; an administrator deletes or disables users`,
        headers: { allow: 'GET, HEAD, PATCH' },
      });
    },
  });

  app.get(
    '/v1/users/:id',
    {
      preHandler: authenticate,
      schema: {
        params: IdParams,
        querystring: Include,
        response: { 200: UserWithMemberships, ...errorResponses },
      },
    },
    async (request, reply) => {
      const claims = request.auth!;
      // Object-level authorization (OWASP API1): your own record, or users:read for anyone's.
      if (claims.sub !== request.params.id && !hasPermissions(claims, ['users:read'])) {
        throw new ForbiddenError('forbidden', 'reading another user requires users:read');
      }
      return withMemberships(reply, sendUser, request.params.id, request.query.include === 'memberships');
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      preHandler: requirePermissions('users:write'),
      schema: { params: IdParams, body: AdminUpdate, response: { 200: UserView, ...errorResponses } },
    },
    async (request) => {
      const body = request.body;
      const changes: UserChanges = {};
      if (body.email !== undefined) changes.email = body.email;
      if (body.name !== undefined) changes.name = body.name;
      if (body.emailVerified !== undefined) changes.emailVerified = body.emailVerified;
      else if (body.email !== undefined) {
        // A new address has not been verified, whatever the old one was.
        const current = await findUserById(db, request.params.id);
        if (current && current.email.toLowerCase() !== body.email.toLowerCase())
          changes.emailVerified = false;
      }
      await applyPasswordChange(changes, body.password);
      const row = await updateUser(db, request.params.id, changes);
      await authz.invalidateUser(row.id);
      return toUserView(row);
    },
  );

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post(
      `/v1/users/:id/${action}`,
      {
        preHandler: requirePermissions('users:write'),
        schema: { params: IdParams, response: { 200: UserView, ...errorResponses } },
      },
      async (request) => {
        const { id } = request.params;
        if (status === 'disabled') refuseSelf(request.auth?.sub, id, 'disable');
        const row =
          status === 'disabled'
            ? await keepingAnAdministrator(db, authz.adminOrg, (tx) => updateUser(tx, id, { status }))
            : await updateUser(db, id, { status });
        await authz.invalidateUser(row.id);
        if (status === 'disabled') await deps.onUserDeactivated?.(row.id);
        return toUserView(row);
      },
    );
  }

  app.delete(
    '/v1/users/:id',
    {
      preHandler: requirePermissions('users:write'),
      schema: { params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      const { id } = request.params;
      refuseSelf(request.auth?.sub, id, 'delete');
      const orgIds = await keepingAnAdministrator(db, authz.adminOrg, (tx) => deleteUser(tx, id));
      await authz.invalidateUser(request.params.id, orgIds);
      await deps.onUserDeactivated?.(id);
      return reply.code(204).send(null);
    },
  );
}

function selfId(sub: string | undefined): string {
  // Service tokens (sub `client:…`) have no profile.
  if (!sub || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub)) {
    throw new NotFoundError('user_not_found', 'this token does not belong to a user');
  }
  return sub;
}

/**
 * An administrator cannot disable or delete the account they are signed in with: the platform
 * would lose its last administrator the moment the only one did it by mistake.
 */
function refuseSelf(sub: string | undefined, id: string, action: 'disable' | 'delete'): void {
  if (sub === id) {
    throw new ConflictError(
      `cannot_${action}_self`,
      `you cannot ${action} the account you are signed in with; another administrator can`,
    );
  }
}
