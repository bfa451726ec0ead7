import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './services/users/src/db/schema.ts',
  out: './services/users/migrations',
  schemaFilter: ['users'],
});
