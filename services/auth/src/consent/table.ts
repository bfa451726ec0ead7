import { primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Scopes a user has granted a third-party client, remembered per user and client. */
export const consents = authSchema.table(
  'consents',
  {
    userId: text('user_id').notNull(),
    clientId: text('client_id').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'consents_pkey', columns: [t.userId, t.clientId] })],
);
