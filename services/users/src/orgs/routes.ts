import { Type } from 'typebox';
import { requirePermissions } from '@tessera/auth-middleware';
import { BadRequestError, type HttpServer } from '@tessera/kernel';
import type { AuthzService } from '../authz/authz-service.ts';
import { assertRolePermissionsAllowed } from '../authz/management-permissions.ts';
import type { UsersDb } from '../db/database.ts';
import { keepingAnAdministrator } from './administrators.ts';
import type { OrganizationRow } from '../db/schema.ts';
import {
  Cursor,
  decodeCursor,
  encodeCursor,
  errorResponses,
  Limit,
  Name,
  Permission,
  RoleName,
  Slug,
  UserView,
  Uuid,
} from '../schemas.ts';
import { toUserView } from '../users/view.ts';
import {
  addMember,
  assignRole,
  createRole,
  deleteOrganization,
  deleteRole,
  getOrganization,
  insertOrganization,
  listMembers,
  listOrganizations,
  listRoles,
  removeMember,
  unassignRole,
  updateOrganization,
  updateRole,
  type RoleWithPermissions,
} from './repository.ts';

/** What the organization routes need. */
export interface OrgRoutesDeps {
  db: UsersDb;
  authz: AuthzService;
}

const OrgView = Type.Object(
  {
    id: Uuid,
    slug: Type.String(),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
const RoleView = Type.Object(
  {
    id: Uuid,
    orgId: Uuid,
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    permissions: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
const OrgParams = Type.Object({ orgId: Uuid }, { additionalProperties: false });
const MemberParams = Type.Object({ orgId: Uuid, userId: Uuid }, { additionalProperties: false });
const RoleParams = Type.Object({ orgId: Uuid, roleId: Uuid }, { additionalProperties: false });
const AssignmentParams = Type.Object(
  { orgId: Uuid, userId: Uuid, roleId: Uuid },
  { additionalProperties: false },
);
const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
/** Free text: line breaks and tabs allowed; other controls and bidirectional overrides are not. */
const Description = Type.String({
  maxLength: 500,
  pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$',
});
const Permissions = Type.Array(Permission, { maxItems: 200, uniqueItems: true });

const toOrgView = (row: OrganizationRow) => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});
const toRoleView = (role: RoleWithPermissions) => ({
  id: role.id,
  orgId: role.orgId,
  name: role.name,
  description: role.description,
  permissions: role.permissions,
});

function pageCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const after = decodeCursor(cursor);
  if (!after) throw new BadRequestError('invalid_cursor', 'the cursor is not one this server issued');
  return after;
}

/**
 * `/v1/orgs`: organizations, members, roles and role assignments (`orgs:read` / `orgs:write`).
 * Every write that can change someone's effective permissions invalidates the authz cache after
 * it commits.
 *
 * @example
 * await app.register(orgRoutes, { db, authz });
 */
export async function orgRoutes(app: HttpServer, deps: OrgRoutesDeps): Promise<void> {
  const { db, authz } = deps;
  const read = requirePermissions('orgs:read');
  const write = requirePermissions('orgs:write');
  // Changes that could take the last administrator's rights away (administrators.ts).
  const guarded = <T>(orgId: string, change: (tx: UsersDb) => Promise<T>) =>
    keepingAnAdministrator(db, authz.adminOrg, change, orgId);

  app.get(
    '/v1/orgs',
    {
      preHandler: read,
      schema: {
        querystring: PageQuery,
        response: {
          200: Type.Object(
            { items: Type.Array(OrgView), nextCursor: Type.Union([Type.String(), Type.Null()]) },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await listOrganizations(db, limit + 1, pageCursor(request.query.cursor));
      const page = rows.slice(0, limit);
      return {
        items: page.map(toOrgView),
        nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
      };
    },
  );

  app.post(
    '/v1/orgs',
    {
      preHandler: write,
      schema: {
        body: Type.Object({ slug: Slug, name: Name }, { additionalProperties: false }),
        response: { 201: OrgView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await insertOrganization(db, request.body);
      return reply.code(201).header('location', `/v1/orgs/${row.id}`).send(toOrgView(row));
    },
  );

  app.get(
    '/v1/orgs/:orgId',
    { preHandler: read, schema: { params: OrgParams, response: { 200: OrgView, ...errorResponses } } },
    async (request) => toOrgView(await getOrganization(db, request.params.orgId)),
  );

  app.patch(
    '/v1/orgs/:orgId',
    {
      preHandler: write,
      schema: {
        params: OrgParams,
        body: Type.Object(
          { slug: Type.Optional(Slug), name: Type.Optional(Name) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: OrgView, ...errorResponses },
      },
    },
    async (request) => {
      const row = await guarded(request.params.orgId, (tx) =>
        updateOrganization(tx, request.params.orgId, request.body),
      );
      await authz.invalidateOrg(row.id);
      return toOrgView(row);
    },
  );

  app.delete(
    '/v1/orgs/:orgId',
    { preHandler: write, schema: { params: OrgParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await guarded(request.params.orgId, (tx) => deleteOrganization(tx, request.params.orgId));
      await authz.invalidateOrg(request.params.orgId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/orgs/:orgId/members',
    {
      preHandler: read,
      schema: {
        params: OrgParams,
        querystring: PageQuery,
        response: {
          200: Type.Object(
            { items: Type.Array(UserView), nextCursor: Type.Union([Type.String(), Type.Null()]) },
            { additionalProperties: false },
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await getOrganization(db, request.params.orgId);
      const limit = request.query.limit ?? 50;
      const rows = await listMembers(db, request.params.orgId, limit + 1, pageCursor(request.query.cursor));
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => toUserView(r.user)),
        nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.user.id) : null,
      };
    },
  );

  app.put(
    '/v1/orgs/:orgId/members/:userId',
    {
      preHandler: write,
      schema: { params: MemberParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      await addMember(db, request.params.orgId, request.params.userId);
      await authz.invalidateMembership(request.params.userId, request.params.orgId);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/v1/orgs/:orgId/members/:userId',
    {
      preHandler: write,
      schema: { params: MemberParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      await guarded(request.params.orgId, (tx) =>
        removeMember(tx, request.params.orgId, request.params.userId),
      );
      await authz.invalidateMembership(request.params.userId, request.params.orgId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/orgs/:orgId/roles',
    {
      preHandler: read,
      schema: {
        params: OrgParams,
        response: {
          200: Type.Object({ items: Type.Array(RoleView) }, { additionalProperties: false }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await getOrganization(db, request.params.orgId);
      return { items: (await listRoles(db, request.params.orgId)).map(toRoleView) };
    },
  );

  app.post(
    '/v1/orgs/:orgId/roles',
    {
      preHandler: write,
      schema: {
        params: OrgParams,
        body: Type.Object(
          { name: RoleName, description: Type.Optional(Description), permissions: Permissions },
          { additionalProperties: false },
        ),
        response: { 201: RoleView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const org = await getOrganization(db, request.params.orgId);
      assertRolePermissionsAllowed(org.slug, request.body.permissions, authz.adminOrg);
      const role = await createRole(db, request.params.orgId, request.body);
      return reply
        .code(201)
        .header('location', `/v1/orgs/${role.orgId}/roles/${role.id}`)
        .send(toRoleView(role));
    },
  );

  app.patch(
    '/v1/orgs/:orgId/roles/:roleId',
    {
      preHandler: write,
      schema: {
        params: RoleParams,
        body: Type.Object(
          {
            name: Type.Optional(RoleName),
            description: Type.Optional(Type.Union([Description, Type.Null()])),
            permissions: Type.Optional(Permissions),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: RoleView, ...errorResponses },
      },
    },
    async (request) => {
      if (request.body.permissions) {
        const org = await getOrganization(db, request.params.orgId);
        assertRolePermissionsAllowed(org.slug, request.body.permissions, authz.adminOrg);
      }
      const role = await guarded(request.params.orgId, (tx) =>
        updateRole(tx, request.params.orgId, request.params.roleId, request.body),
      );
      await authz.invalidateOrg(request.params.orgId);
      return toRoleView(role);
    },
  );

  app.delete(
    '/v1/orgs/:orgId/roles/:roleId',
    { preHandler: write, schema: { params: RoleParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await guarded(request.params.orgId, (tx) =>
        deleteRole(tx, request.params.orgId, request.params.roleId),
      );
      await authz.invalidateOrg(request.params.orgId);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/orgs/:orgId/members/:userId/roles/:roleId',
    {
      preHandler: write,
      schema: { params: AssignmentParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      const { orgId, userId, roleId } = request.params;
      await assignRole(db, orgId, userId, roleId);
      await authz.invalidateMembership(userId, orgId);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/v1/orgs/:orgId/members/:userId/roles/:roleId',
    {
      preHandler: write,
      schema: { params: AssignmentParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      const { orgId, userId, roleId } = request.params;
      await guarded(orgId, (tx) => unassignRole(tx, orgId, userId, roleId));
      await authz.invalidateMembership(userId, orgId);
      return reply.code(204).send(null);
    },
  );
}
