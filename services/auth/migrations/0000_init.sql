CREATE SCHEMA IF NOT EXISTS "auth";
--> statement-breakpoint
CREATE TABLE "auth"."oauth_clients" (
	"client_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"token_endpoint_auth_method" text NOT NULL,
	"secret_hash" text,
	"redirect_uris" text[] NOT NULL,
	"post_logout_redirect_uris" text[] NOT NULL,
	"grant_types" text[] NOT NULL,
	"scopes" text[] NOT NULL,
	"audiences" text[] NOT NULL,
	"access_token_ttl_seconds" integer NOT NULL,
	"refresh_token_idle_ttl_seconds" integer NOT NULL,
	"refresh_token_absolute_ttl_seconds" integer NOT NULL,
	"first_party" boolean NOT NULL,
	"jwks" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"secret_rotated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "auth"."signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_key_sealed" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"activates_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth"."revoked_access_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth"."used_client_assertions" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth"."authorization_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"family_id" uuid NOT NULL,
	"redirect_uri" text NOT NULL,
	"redirect_uri_provided" boolean NOT NULL,
	"code_challenge" text NOT NULL,
	"nonce" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "auth"."grant_access_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"family_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth"."grant_families" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"user_id" text NOT NULL,
	"org_id" text,
	"session_id" uuid,
	"scope" text NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoke_reason" text
);
--> statement-breakpoint
CREATE TABLE "auth"."refresh_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"family_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"idle_expires_at" timestamp with time zone NOT NULL,
	"rotated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "auth"."sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" text,
	"org_id" text,
	"auth_time" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sessions_token_hash_key" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "auth"."consents" (
	"user_id" text NOT NULL,
	"client_id" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "consents_pkey" PRIMARY KEY("user_id","client_id")
);
--> statement-breakpoint
CREATE TABLE "auth"."interactions" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"params" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "auth"."authorization_codes" ADD CONSTRAINT "authorization_codes_family_id_grant_families_id_fk" FOREIGN KEY ("family_id") REFERENCES "auth"."grant_families"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."grant_access_tokens" ADD CONSTRAINT "grant_access_tokens_family_id_grant_families_id_fk" FOREIGN KEY ("family_id") REFERENCES "auth"."grant_families"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."refresh_tokens" ADD CONSTRAINT "refresh_tokens_family_id_grant_families_id_fk" FOREIGN KEY ("family_id") REFERENCES "auth"."grant_families"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."interactions" ADD CONSTRAINT "interactions_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "auth"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signing_keys_activates_idx" ON "auth"."signing_keys" USING btree ("activates_at");--> statement-breakpoint
CREATE INDEX "revoked_access_tokens_expires_idx" ON "auth"."revoked_access_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "used_client_assertions_expires_idx" ON "auth"."used_client_assertions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "authorization_codes_family_idx" ON "auth"."authorization_codes" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "grant_access_tokens_family_idx" ON "auth"."grant_access_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "grant_families_user_idx" ON "auth"."grant_families" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "grant_families_session_idx" ON "auth"."grant_families" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_family_idx" ON "auth"."refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "auth"."sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_expires_idx" ON "auth"."sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "interactions_session_idx" ON "auth"."interactions" USING btree ("session_id");