import { index, text, timestamp } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

/** A table of ids, each kept until `expires_at` (see `once-store.ts`). */
function expiringIdTable(name: string) {
  return authSchema.table(
    name,
    {
      id: text('id').primaryKey(),
      expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    },
    (t) => [index(`${name}_expires_idx`).on(t.expiresAt)],
  );
}

/** Both tables share one shape, so one repository serves them. */
export type ExpiringIdTable = ReturnType<typeof expiringIdTable>;

/** `jti`s of access tokens revoked before their `exp` (RFC 7009), when no Redis is configured. */
export const revokedAccessTokens: ExpiringIdTable = expiringIdTable('revoked_access_tokens');

/** `<client_id>:<jti>` of private_key_jwt assertions already used (RFC 7523 §3), when no Redis is configured. */
export const usedClientAssertions: ExpiringIdTable = expiringIdTable('used_client_assertions');
