import { and, eq, isNull } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { authorizationCodes, grantFamilies } from './table.ts';
import type { GrantFamily } from './families.ts';

/** A stored code with the family (client, user, scope) it belongs to. */
export interface StoredCode {
  code: typeof authorizationCodes.$inferSelect;
  family: GrantFamily;
}

/** What the authorization endpoint binds a code to (SECURITY 8). */
export interface NewCode {
  familyId: string;
  redirectUri: string;
  redirectUriProvided: boolean;
  codeChallenge: string;
  nonce: string | undefined;
  ttlSeconds: number;
}

/**
 * Authorization codes: 256 random bits handed to the client, only their SHA-256 hash stored,
 * single use enforced by an atomic `UPDATE ... WHERE used_at IS NULL RETURNING` (SECURITY 14a).
 */
export class AuthorizationCodes {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Stores a new code and returns it (the only time it exists in clear). */
  async create(input: NewCode): Promise<string> {
    const code = randomToken();
    const now = this.#clock.now();
    await this.#db.insert(authorizationCodes).values({
      codeHash: sha256(code),
      familyId: input.familyId,
      redirectUri: input.redirectUri,
      redirectUriProvided: input.redirectUriProvided,
      codeChallenge: input.codeChallenge,
      nonce: input.nonce ?? null,
      createdAt: new Date(now),
      expiresAt: new Date(now + input.ttlSeconds * 1000),
    });
    return code;
  }

  /** The code and its family, whether used or not; undefined for anything this server never issued. */
  async find(code: string): Promise<StoredCode | undefined> {
    if (code.length === 0 || code.length > 256) return undefined;
    const [row] = await this.#db
      .select({ code: authorizationCodes, family: grantFamilies })
      .from(authorizationCodes)
      .innerJoin(grantFamilies, eq(grantFamilies.id, authorizationCodes.familyId))
      .where(eq(authorizationCodes.codeHash, sha256(code)))
      .limit(1);
    return row;
  }

  /**
   * Marks the code used if nobody has: of two concurrent redemptions exactly one gets `true`
   * (the row lock of the UPDATE serialises them; the loser's WHERE no longer matches).
   */
  async consume(codeHash: string): Promise<boolean> {
    const rows = await this.#db
      .update(authorizationCodes)
      .set({ usedAt: new Date(this.#clock.now()) })
      .where(and(eq(authorizationCodes.codeHash, codeHash), isNull(authorizationCodes.usedAt)))
      .returning({ codeHash: authorizationCodes.codeHash });
    return rows.length === 1;
  }
}
