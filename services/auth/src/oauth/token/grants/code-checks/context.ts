import type { OAuthClient } from '../../../../contracts.ts';
import type { StoredCode } from '../../../../grants/codes.ts';
import type { GrantFamilies } from '../../../../grants/families.ts';

/** A code redemption being checked. */
export interface CodeRedemption {
  client: OAuthClient;
  params: Record<string, string | undefined>;
  stored: StoredCode;
  now: number;
}

/** What the code checks may use. */
export interface CodeCheckDeps {
  families: GrantFamilies;
}

/** One rule of code redemption; throws OAuthError. */
export type CodeCheck = (redemption: CodeRedemption, deps: CodeCheckDeps) => void | Promise<void>;
