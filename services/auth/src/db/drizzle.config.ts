import { defineConfig } from 'drizzle-kit';

/** In services/auth: `flock /tmp/tessera-auth-migrate.lock npx drizzle-kit generate --config src/db/drizzle.config.ts --name <what>`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['auth'],
});
