ALTER TABLE "auth"."oauth_clients" ADD COLUMN "id_token_signed_response_alg" text;--> statement-breakpoint
ALTER TABLE "auth"."signing_keys" ADD COLUMN "key_set" text DEFAULT 'primary' NOT NULL;