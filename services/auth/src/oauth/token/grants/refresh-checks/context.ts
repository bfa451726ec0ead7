import type { OAuthClient, UserProfile, UsersGateway } from '../../../../contracts.ts';
import type { GrantFamilies } from '../../../../grants/families.ts';
import type { StoredRefreshToken } from '../../../../grants/refresh-tokens.ts';

/** A refresh being checked. */
export interface RefreshAttempt {
  client: OAuthClient;
  params: Record<string, string | undefined>;
  stored: StoredRefreshToken;
  now: number;
  /** Set by checkRefreshScope: the scope of this response (the grant's, or a narrower one). */
  scopes?: string[];
  /** Set by checkRefreshUser. */
  user?: UserProfile;
}

/** What the refresh checks may use. */
export interface RefreshCheckDeps {
  families: GrantFamilies;
  users: UsersGateway;
}

/** One rule of refresh; throws OAuthError. */
export type RefreshCheck = (attempt: RefreshAttempt, deps: RefreshCheckDeps) => void | Promise<void>;
