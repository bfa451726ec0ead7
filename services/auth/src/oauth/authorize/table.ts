import { index, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { authSchema } from '../../db/pg-schema.ts';
import { sessions } from '../../sessions/table.ts';
import type { AuthorizationParams } from './params.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * An authorization request waiting for the user (login, organization choice, consent). Bound to
 * the browser session that started it; resumed by `/oauth2/authorize/resume`.
 */
export const interactions = authSchema.table(
  'interactions',
  {
    id: text('id').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    params: jsonb('params').$type<AuthorizationParams>().notNull(),
    createdAt: at('created_at').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('interactions_session_idx').on(t.sessionId)],
);
