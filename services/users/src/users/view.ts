import type { UserRow } from '../db/schema.ts';

/** A user as the API shows it: never the password hash. */
export interface UserView {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

/**
 * Maps a row to its public view.
 *
 * @example
 * reply.send(toUserView(row));
 */
export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.emailVerified,
    name: row.name,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
