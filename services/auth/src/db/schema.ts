/**
 * Every table of the auth service (pgSchema `auth`), for Drizzle's relational queries and for
 * drizzle-kit, which generates `services/auth/migrations` from this file. A feature that adds a
 * table adds its `table.ts` here.
 */
export { authSchema } from './pg-schema.ts';
export * from '../clients/table.ts';
export * from '../keys/table.ts';
export * from '../tokens/table.ts';
export * from '../grants/table.ts';
export * from '../sessions/table.ts';
export * from '../consent/table.ts';
export * from '../oauth/authorize/table.ts';
