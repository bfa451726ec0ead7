import { pgSchema } from 'drizzle-orm/pg-core';

/** The auth service's PostgreSQL schema; every auth table is declared on it (ARCHITECTURE: one schema per service). */
export const authSchema = pgSchema('auth');
