import type { JWK } from 'jose';
import { index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The issuer's signing keys. A key's state is derived from time, never stored, so every instance
 * agrees without coordination (ADR 0002): `next` until `activates_at`, then `current` until a
 * newer key activates, then `retired` — still published until every token it signed has expired.
 * The private part is sealed under the master key (envelope encryption, SECURITY 37).
 */
export const signingKeys = authSchema.table(
  'signing_keys',
  {
    kid: text('kid').primaryKey(),
    alg: text('alg').notNull(),
    /**
     * Which timeline the key belongs to: `primary` (access tokens, and ID tokens by default) or
     * `id-token-rs256` (RS256 ID tokens, OIDC Core §15.1, when the primary algorithm is not RS256).
     * Each set rotates on its own timeline.
     */
    keySet: text('key_set').notNull().default('primary'),
    /** The public JWK as published in `/jwks.json` (with kid, alg, use). */
    publicJwk: jsonb('public_jwk').$type<JWK>().notNull(),
    /** PKCS#8 private key sealed by `keys/envelope.ts` (AES-256-GCM, per-key data key wrapped by the master key). */
    privateKeySealed: text('private_key_sealed').notNull(),
    createdAt: at('created_at').notNull(),
    /** When the key starts signing; until then it is published only (`next`). */
    activatesAt: at('activates_at').notNull(),
  },
  (t) => [index('signing_keys_activates_idx').on(t.activatesAt)],
);

export type SigningKeyRow = typeof signingKeys.$inferSelect;
