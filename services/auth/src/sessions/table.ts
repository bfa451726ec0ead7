import { index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Browser sessions of the hosted pages. The cookie carries a random token; only its SHA-256 hash
 * is stored (SECURITY 14). A session without `userId` is anonymous: it exists to bind the login
 * form's CSRF token and the pending authorization request to one browser.
 */
export const sessions = authSchema.table(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique('sessions_token_hash_key'),
    userId: text('user_id'),
    /** The organization chosen for this session when the user belongs to several. */
    orgId: text('org_id'),
    authTime: at('auth_time'),
    createdAt: at('created_at').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);
