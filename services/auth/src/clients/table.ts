import type { JWK } from 'jose';
import { boolean, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { authSchema } from '../db/pg-schema.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Registered OAuth clients. A confidential client's secret is stored only as a SHA-256 hash: the
 * secret is 256 random bits, so a fast hash is enough (no dictionary to guess from) and keeps
 * client authentication cheap (SECURITY 12).
 */
export const oauthClients = authSchema.table('oauth_clients', {
  clientId: text('client_id').primaryKey(),
  name: text('name').notNull(),
  /** 'public' | 'confidential' */
  type: text('type').notNull(),
  /** 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' */
  tokenEndpointAuthMethod: text('token_endpoint_auth_method').notNull(),
  /** base64url SHA-256 of the secret; null for public and private_key_jwt clients. */
  secretHash: text('secret_hash'),
  redirectUris: text('redirect_uris').array().notNull(),
  postLogoutRedirectUris: text('post_logout_redirect_uris').array().notNull(),
  grantTypes: text('grant_types').array().notNull(),
  scopes: text('scopes').array().notNull(),
  audiences: text('audiences').array().notNull(),
  accessTokenTtlSeconds: integer('access_token_ttl_seconds').notNull(),
  refreshTokenIdleTtlSeconds: integer('refresh_token_idle_ttl_seconds').notNull(),
  refreshTokenAbsoluteTtlSeconds: integer('refresh_token_absolute_ttl_seconds').notNull(),
  firstParty: boolean('first_party').notNull(),
  /** OIDC `id_token_signed_response_alg`; null = the issuer's signing algorithm. */
  idTokenSignedResponseAlg: text('id_token_signed_response_alg'),
  /** Public keys for private_key_jwt. */
  jwks: jsonb('jwks').$type<{ keys: JWK[] }>(),
  createdAt: at('created_at').notNull(),
  updatedAt: at('updated_at').notNull(),
  secretRotatedAt: at('secret_rotated_at'),
});

export type ClientRow = typeof oauthClients.$inferSelect;
