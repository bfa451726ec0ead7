import type { Database } from '@tessera/db';
import type { UsersSchema } from './schema.ts';

/** The user service's Drizzle database (or a transaction on it: same query surface). */
export type UsersDb = Database<UsersSchema>;
