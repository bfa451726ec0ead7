import type { Database } from '@tessera/db';

/** Any Drizzle database of the auth service (repositories use only the query builder). */
export type AuthDatabase = Database<Record<string, unknown>>;
