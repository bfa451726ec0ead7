import { effectiveMembership } from '../authz/management-permissions.ts';
import { loadMemberships } from '../authz/memberships.ts';
import type { UsersDb } from '../db/database.ts';
import { findUserById } from './repository.ts';
import { toUserView } from './view.ts';

/**
 * The full view behind `GET /v1/users/{id}?include=memberships`: the user with every organization,
 * role and effective permission, in two SQL statements whatever the number of memberships (the
 * user row, then all memberships with their roles and permissions). Null when there is no such user.
 *
 * @example
 * const view = await authz.userView(id, () => loadUserWithMemberships(db, id, authz.adminOrg));
 */
export async function loadUserWithMemberships(db: UsersDb, id: string, adminOrg: string) {
  const row = await findUserById(db, id);
  if (!row) return null;
  const memberships = await loadMemberships(db, id);
  return {
    ...toUserView(row),
    memberships: memberships.map((m) => effectiveMembership(m, adminOrg)),
  };
}
