import { eq } from 'drizzle-orm';
import type { TwoLevelCache } from '@tessera/cache';
import { disabledTelemetry, type Telemetry } from '@tessera/telemetry';
import type { UsersDb } from '../db/database.ts';
import { memberships } from '../db/schema.ts';
import { effectiveMembership } from './management-permissions.ts';
import { loadMemberships } from './memberships.ts';

/** Roles and effective permissions of a user in one organization (internal API body). */
export interface AuthzContext {
  userId: string;
  orgId: string;
  orgSlug: string;
  roles: string[];
  permissions: string[];
}

/** Reads authz through the two-level cache and invalidates it after writes. */
export interface AuthzService {
  /** Slug of the organization whose roles may hold management permissions (`TESSERA_ADMIN_ORG`). */
  readonly adminOrg: string;
  get(userId: string, orgId: string): Promise<AuthzContext | null>;
  /** A user's full view (profile, memberships, roles, permissions), through the same cache. */
  userView<V>(userId: string, load: () => Promise<V>): Promise<V>;
  /** After a change to one membership (roles assigned, member removed). */
  invalidateMembership(userId: string, orgId: string): Promise<void>;
  /** After a change that touches every membership of a user (password, status, deletion). Pass the org ids read before deleting. */
  invalidateUser(userId: string, orgIds?: string[]): Promise<void>;
  /** After a change to a role or an organization (every member of the org may be affected). */
  invalidateOrg(orgId: string): Promise<void>;
  /** After writes made outside the API (a seed applied at start): drops every cached entry on every instance. */
  invalidateAll(): Promise<void>;
}

const key = (orgId: string, userId: string) => `authz:${orgId}:${userId}`;
const viewKey = (userId: string) => `user:${userId}`;

/**
 * The authz context service: cache key `authz:<orgId>:<userId>`, so a role change drops the
 * whole organization with one prefix invalidation and a user change drops one key per org.
 * Full user views (`GET /v1/users/{id}?include=memberships`) are cached under `user:<userId>`.
 *
 * @example
 * const authz = createAuthzService(db, cache, telemetry, 'demo');
 * await authz.get(userId, orgId);
 */
export function createAuthzService(
  db: UsersDb,
  cache: TwoLevelCache<unknown>,
  telemetry: Telemetry = disabledTelemetry('users'),
  adminOrg = 'demo',
): AuthzService {
  const userOrgIds = async (userId: string) =>
    (
      await db.select({ orgId: memberships.orgId }).from(memberships).where(eq(memberships.userId, userId))
    ).map((r) => r.orgId);
  return {
    adminOrg,
    userView<V>(userId: string, load: () => Promise<V>) {
      return cache.get(viewKey(userId), load) as Promise<V>;
    },
    get(userId, orgId) {
      const read = () => cache.get(key(orgId, userId), loadContext) as Promise<AuthzContext | null>;
      const loadContext = async (): Promise<AuthzContext | null> => {
        const [loaded] = await loadMemberships(db, userId, orgId);
        if (!loaded) return null;
        const membership = effectiveMembership(loaded, adminOrg);
        return {
          userId,
          orgId,
          orgSlug: membership.organization.slug,
          roles: membership.roles.map((r) => r.name).sort(),
          permissions: membership.permissions,
        };
      };
      // The span records which level answered (`tessera.cache.level`: l1, l2, load).
      return telemetry.enabled ? telemetry.span('authz.load', { 'tessera.org_id': orgId }, read) : read();
    },
    async invalidateMembership(userId, orgId) {
      await cache.invalidate(key(orgId, userId));
      await cache.invalidate(viewKey(userId));
    },
    async invalidateUser(userId, orgIds) {
      for (const orgId of orgIds ?? (await userOrgIds(userId))) await cache.invalidate(key(orgId, userId));
      await cache.invalidate(viewKey(userId));
    },
    async invalidateOrg(orgId) {
      await cache.invalidateMatching(`authz:${orgId}:`);
      // Role and organization changes are rare admin operations; every cached user view may show them.
      await cache.invalidateMatching('user:');
    },
    async invalidateAll() {
      await cache.invalidateMatching('');
    },
  };
}
