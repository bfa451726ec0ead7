import { defineConfig } from 'drizzle-kit';

/** `flock /tmp/tessera-auth-migrate.lock npx drizzle-kit generate` in services/auth. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['auth'],
});
