ALTER TABLE "auth"."grant_families" ADD COLUMN "resources" text[];--> statement-breakpoint
-- The refresh lookup (0002) returns the family's columns one by one: it now returns `resources`
-- too. A function's result type cannot change in place, so it is dropped and created again.
DROP FUNCTION "auth"."find_refresh_tokens"(text[]);--> statement-breakpoint
CREATE FUNCTION "auth"."find_refresh_tokens"(hashes text[])
RETURNS TABLE(
  token_hash text, family_id uuid, token_created_at timestamptz, idle_expires_at timestamptz,
  rotated_at timestamptz, client_id text, user_id text, org_id text, session_id uuid, scope text,
  resources text[], auth_time timestamptz, family_created_at timestamptz, expires_at timestamptz,
  revoked_at timestamptz, revoke_reason text)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.token_hash, r.family_id, r.created_at, r.idle_expires_at, r.rotated_at,
    f.client_id, f.user_id, f.org_id, f.session_id, f.scope, f.resources, f.auth_time, f.created_at,
    f.expires_at, f.revoked_at, f.revoke_reason
  FROM "auth"."refresh_tokens" r
  JOIN "auth"."grant_families" f ON f.id = r.family_id
  WHERE r.token_hash = ANY(hashes);
END
$$;
