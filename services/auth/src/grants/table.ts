import { boolean, index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One grant: created with its authorization code, it is the family every refresh and access
 * token issued from that code descends from. Revoking it (code reuse, refresh-token reuse,
 * logout, user disabled) kills them all (RFC 9700 §4.14.2, RFC 6749 §10.5).
 */
export const grantFamilies = authSchema.table(
  'grant_families',
  {
    id: uuid('id').primaryKey(),
    clientId: text('client_id').notNull(),
    userId: text('user_id').notNull(),
    orgId: text('org_id'),
    /** The login session the grant came from: logging out revokes it (SECURITY 14b). */
    sessionId: uuid('session_id'),
    /** The scope granted by the user; refresh may narrow it, never widen it. */
    scope: text('scope').notNull(),
    /**
     * The resource indicators (RFC 8707) the authorization request named: the audiences the
     * family's access tokens may have. Null: none named, the client's first audience.
     */
    resources: text('resources').array(),
    authTime: at('auth_time').notNull(),
    createdAt: at('created_at').notNull(),
    /** Absolute lifetime of the family's refresh tokens. */
    expiresAt: at('expires_at').notNull(),
    revokedAt: at('revoked_at'),
    revokeReason: text('revoke_reason'),
  },
  (t) => [index('grant_families_user_idx').on(t.userId), index('grant_families_session_idx').on(t.sessionId)],
);

/** Authorization codes, stored only as SHA-256 hashes (SECURITY 14). */
export const authorizationCodes = authSchema.table(
  'authorization_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    familyId: uuid('family_id')
      .notNull()
      .references(() => grantFamilies.id, { onDelete: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    /** False when the client omitted redirect_uri at the authorization endpoint (one registered URI). */
    redirectUriProvided: boolean('redirect_uri_provided').notNull(),
    codeChallenge: text('code_challenge').notNull(),
    nonce: text('nonce'),
    createdAt: at('created_at').notNull(),
    expiresAt: at('expires_at').notNull(),
    usedAt: at('used_at'),
  },
  (t) => [index('authorization_codes_family_idx').on(t.familyId)],
);

/** Refresh tokens of a family, stored only as SHA-256 hashes; `rotatedAt` set = already used. */
export const refreshTokens = authSchema.table(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    familyId: uuid('family_id')
      .notNull()
      .references(() => grantFamilies.id, { onDelete: 'cascade' }),
    createdAt: at('created_at').notNull(),
    idleExpiresAt: at('idle_expires_at').notNull(),
    rotatedAt: at('rotated_at'),
  },
  (t) => [index('refresh_tokens_family_idx').on(t.familyId)],
);

/** The access tokens issued from a family (by jti), so revoking the family can deny-list them. */
export const grantAccessTokens = authSchema.table(
  'grant_access_tokens',
  {
    jti: text('jti').primaryKey(),
    familyId: uuid('family_id')
      .notNull()
      .references(() => grantFamilies.id, { onDelete: 'cascade' }),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('grant_access_tokens_family_idx').on(t.familyId)],
);
