import { and, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { uuidv7, type Clock, type Logger } from '@tessera/kernel';
import type { AccessTokenDenylist } from '../contracts.ts';
import type { AuthMetrics } from '../metrics.ts';
import type { AuthDatabase } from '../flows/deps.ts';
import { KeyedBatcher, UNNAMED } from './batcher.ts';
import { grantAccessTokens, grantFamilies } from './table.ts';

/** A grant family row. */
export type GrantFamily = typeof grantFamilies.$inferSelect;

/** Why a family was revoked (kept on the row for audits and tests). */
export type RevokeReason =
  'code_reuse' | 'refresh_token_reuse' | 'user_inactive' | 'membership_removed' | 'logout' | 'revocation';

/** What a new family records about the grant. */
export interface NewFamily {
  clientId: string;
  userId: string;
  orgId: string | undefined;
  sessionId: string | undefined;
  scope: string;
  /** The resource indicators (RFC 8707) the authorization request named; empty: none. */
  resources: readonly string[];
  authTime: Date;
  absoluteTtlSeconds: number;
}

/**
 * Grant families: every token issued from one authorization code belongs to one family, and
 * revoking the family revokes its refresh tokens (checked at refresh) and its access tokens
 * (their jtis go on the denylist until they expire).
 */
export class GrantFamilies {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #denylist: AccessTokenDenylist;
  readonly #logger: Logger | undefined;
  readonly #metrics: Pick<AuthMetrics, 'refreshReuse' | 'tokensRevoked'> | undefined;
  /** The re-check after a code redemption: batched across concurrent requests, planned per batch (see RefreshTokens). */
  readonly #revokedAt: KeyedBatcher<string, Date | null>;

  constructor(
    db: AuthDatabase,
    clock: Clock,
    denylist: AccessTokenDenylist,
    logger?: Logger,
    metrics?: Pick<AuthMetrics, 'refreshReuse' | 'tokensRevoked'>,
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#denylist = denylist;
    this.#logger = logger;
    this.#metrics = metrics;
    const revokedAt = db
      .select({ id: grantFamilies.id, revokedAt: grantFamilies.revokedAt })
      .from(grantFamilies)
      .where(sql`${grantFamilies.id} = any(${sql.placeholder('ids')}::uuid[])`)
      .prepare(UNNAMED);
    this.#revokedAt = new KeyedBatcher(async (ids: string[]) => {
      const rows = await revokedAt.execute({ ids });
      return new Map(rows.map((row) => [row.id, row.revokedAt]));
    });
  }

  /** Creates a family (with the code that starts it) and returns its id. */
  async create(input: NewFamily): Promise<string> {
    const now = this.#clock.now();
    const id = uuidv7(now);
    await this.#db.insert(grantFamilies).values({
      id,
      clientId: input.clientId,
      userId: input.userId,
      orgId: input.orgId ?? null,
      sessionId: input.sessionId ?? null,
      scope: input.scope,
      resources: input.resources.length > 0 ? [...input.resources] : null,
      authTime: input.authTime,
      createdAt: new Date(now),
      expiresAt: new Date(now + input.absoluteTtlSeconds * 1000),
    });
    return id;
  }

  /** Remembers an access token issued from the family, so revocation can deny-list it. */
  async recordAccessToken(familyId: string, jti: string, exp: number): Promise<void> {
    await this.#db.insert(grantAccessTokens).values({ jti, familyId, expiresAt: new Date(exp * 1000) });
  }

  /** True when the family has been revoked. */
  async isRevoked(familyId: string): Promise<boolean> {
    // undefined (no such family, e.g. purged) counts as revoked.
    const revokedAt = await this.#revokedAt.load(familyId);
    return revokedAt !== null;
  }

  /**
   * Revokes a family: marks it (so none of its refresh tokens is accepted again), then
   * deny-lists every access token recorded for it that has not expired. Token issuance records
   * the jti first and re-checks the mark afterwards, so a token issued concurrently with the
   * revocation is caught by one side or the other.
   */
  async revoke(familyId: string, reason: RevokeReason): Promise<void> {
    const now = new Date(this.#clock.now());
    const marked = await this.#db
      .update(grantFamilies)
      .set({ revokedAt: now, revokeReason: reason })
      .where(and(eq(grantFamilies.id, familyId), isNull(grantFamilies.revokedAt)))
      .returning({ clientId: grantFamilies.clientId });
    const first = marked[0];
    if (reason === 'refresh_token_reuse') this.#metrics?.refreshReuse.inc();
    if (first && (reason === 'refresh_token_reuse' || reason === 'code_reuse')) {
      this.#metrics?.tokensRevoked.inc({ reason: reason === 'code_reuse' ? 'code_reuse' : 'refresh_reuse' });
    }
    if (first) {
      // Reuse means a code or refresh token leaked: a security event worth a warning.
      const level = reason === 'code_reuse' || reason === 'refresh_token_reuse' ? 'warn' : 'info';
      this.#logger?.[level]({ familyId, clientId: first.clientId, reason }, 'grant revoked');
    }
    const live = await this.#db
      .select({ jti: grantAccessTokens.jti, expiresAt: grantAccessTokens.expiresAt })
      .from(grantAccessTokens)
      .where(and(eq(grantAccessTokens.familyId, familyId), gt(grantAccessTokens.expiresAt, now)));
    for (const token of live) {
      await this.#denylist.add(token.jti, Math.ceil(token.expiresAt.getTime() / 1000));
    }
  }

  /**
   * Revokes every grant of a user (their refresh tokens, and through the denylist their access
   * tokens): the user was disabled or deleted. Returns how many grants were still live.
   *
   * @example
   * await families.revokeUser(userId, 'user_inactive');
   */
  async revokeUser(userId: string, reason: RevokeReason): Promise<number> {
    return this.#revokeWhere(eq(grantFamilies.userId, userId), reason);
  }

  /**
   * Revokes every grant made to a client, which was deleted. Returns how many were still live.
   *
   * @example
   * await families.revokeClient('my-app');
   */
  async revokeClient(clientId: string): Promise<number> {
    return this.#revokeWhere(eq(grantFamilies.clientId, clientId), 'revocation');
  }

  async #revokeWhere(condition: SQL, reason: RevokeReason): Promise<number> {
    const live = await this.#db
      .select({ id: grantFamilies.id })
      .from(grantFamilies)
      .where(and(condition, isNull(grantFamilies.revokedAt)));
    for (const { id } of live) await this.revoke(id, reason);
    return live.length;
  }

  /**
   * Deletes what no longer protects anything: access-token records past their `exp` (their jtis
   * need no deny-listing any more), and families expired or revoked for longer than `retainMs`
   * with their codes and refresh tokens (kept that long so a late replay is still recognised).
   */
  async deleteExpired(retainMs: number): Promise<{ families: number; accessTokens: number }> {
    const now = this.#clock.now();
    const tokens = await this.#db
      .delete(grantAccessTokens)
      .where(lte(grantAccessTokens.expiresAt, new Date(now)))
      .returning({ jti: grantAccessTokens.jti });
    const cutoff = new Date(now - retainMs);
    const families = await this.#db
      .delete(grantFamilies)
      .where(or(lte(grantFamilies.expiresAt, cutoff), lte(grantFamilies.revokedAt, cutoff)))
      .returning({ id: grantFamilies.id });
    return { families: families.length, accessTokens: tokens.length };
  }

  /** Moves the grants of a replaced login session to its successor (same user, new session id). */
  async rebindSession(fromSessionId: string, toSessionId: string): Promise<void> {
    await this.#db
      .update(grantFamilies)
      .set({ sessionId: toSessionId })
      .where(eq(grantFamilies.sessionId, fromSessionId));
  }

  /** Revokes every live family that came from a login session (logout, SECURITY 14b). */
  async revokeBySession(sessionId: string): Promise<void> {
    const rows = await this.#db
      .select({ id: grantFamilies.id })
      .from(grantFamilies)
      .where(and(eq(grantFamilies.sessionId, sessionId), isNull(grantFamilies.revokedAt)));
    for (const row of rows) await this.revoke(row.id, 'logout');
  }
}
