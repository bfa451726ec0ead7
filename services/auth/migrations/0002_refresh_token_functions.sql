-- The two statements of every refresh (lookup, rotation) as functions, so each pooled connection
-- plans them once (PL/pgSQL caches the plans of its statements) instead of once per batch.
-- A cached plan must stay right while the tables grow from a few rows to millions before the first
-- ANALYZE: planned on a tiny table, PostgreSQL would pick sequential scans and hash joins and keep
-- them. The SET clauses rule those out inside these functions only, so every plan is index lookups
-- driven by the batch's own rows (nested loops over primary keys), whatever the statistics say.
-- See docs/adr/0010-refresh-token-statements.md.

-- The refresh tokens with these hashes (rotated or not) and their families.
CREATE FUNCTION "auth"."find_refresh_tokens"(hashes text[])
RETURNS TABLE(
  token_hash text, family_id uuid, token_created_at timestamptz, idle_expires_at timestamptz,
  rotated_at timestamptz, client_id text, user_id text, org_id text, session_id uuid, scope text,
  auth_time timestamptz, family_created_at timestamptz, expires_at timestamptz,
  revoked_at timestamptz, revoke_reason text)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.token_hash, r.family_id, r.created_at, r.idle_expires_at, r.rotated_at,
    f.client_id, f.user_id, f.org_id, f.session_id, f.scope, f.auth_time, f.created_at,
    f.expires_at, f.revoked_at, f.revoke_reason
  FROM "auth"."refresh_tokens" r
  JOIN "auth"."grant_families" f ON f.id = r.family_id
  WHERE r.token_hash = ANY(hashes);
END
$$;
--> statement-breakpoint
-- A batch of rotations (a JSON array of {n, hash, family_id, next_hash, now, idle_expires_at, jti,
-- jti_expires_at}) in one statement. Per item a compare-and-set (`rotated_at IS NULL`) whose
-- result feeds both inserts: of two rotations of the same token exactly one returns 'rotated' (a
-- second one waits for the first's row lock, then no longer matches: 'used'). The family rows are
-- share-locked and must still be live: a revocation (an UPDATE of the family row) that comes later
-- waits for this commit and then sees the access token recorded here; one that committed first
-- leaves the family out ('revoked'). A token's family never changes, so the family id the caller
-- read with the token is the token's own.
CREATE FUNCTION "auth"."rotate_refresh_tokens"(items json)
RETURNS TABLE(item int, outcome text)
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT * FROM json_to_recordset(items) AS i(
      n int, hash text, family_id uuid, next_hash text, now timestamptz,
      idle_expires_at timestamptz, jti text, jti_expires_at timestamptz)
  ), live AS (
    SELECT f.id FROM "auth"."grant_families" f
    WHERE f.id = ANY(ARRAY(SELECT i.family_id FROM input i)) AND f.revoked_at IS NULL
    ORDER BY f.id
    FOR SHARE
  ), retired AS (
    UPDATE "auth"."refresh_tokens" r SET rotated_at = input.now
    FROM input JOIN live ON live.id = input.family_id
    WHERE r.token_hash = input.hash AND r.rotated_at IS NULL
    RETURNING r.family_id, input.n
  ), successor AS (
    INSERT INTO "auth"."refresh_tokens" (token_hash, family_id, created_at, idle_expires_at)
    SELECT input.next_hash, retired.family_id, input.now, input.idle_expires_at
    FROM retired JOIN input ON input.n = retired.n
    RETURNING token_hash
  ), recorded AS (
    INSERT INTO "auth"."grant_access_tokens" (jti, family_id, expires_at)
    SELECT input.jti, retired.family_id, input.jti_expires_at
    FROM retired JOIN input ON input.n = retired.n
    WHERE input.jti IS NOT NULL
    RETURNING jti
  )
  SELECT input.n,
    CASE
      WHEN EXISTS (SELECT 1 FROM successor s WHERE s.token_hash = input.next_hash) THEN 'rotated'
      WHEN EXISTS (SELECT 1 FROM live WHERE live.id = input.family_id) THEN 'used'
      ELSE 'revoked'
    END
  FROM input;
END
$$;
