export { openConnection, closeConnection, ping, rawQuery } from './connection.ts';
export type { SqlConnection, ConnectionOptions } from './connection.ts';
export { createDrizzle } from './drizzle.ts';
export type { Database, DrizzleOptions } from './drizzle.ts';
export { applyMigrations, pendingMigrations } from './migrations.ts';
export type { MigrationSet } from './migrations.ts';
export { isUniqueViolation, isForeignKeyViolation, sqlState } from './pg-errors.ts';
export { traceConnection } from './tracing.ts';
export { registerPoolMetrics } from './pool-metrics.ts';
