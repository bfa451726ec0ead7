import type { ClientLookup, OAuthClient, UserProfile, UsersGateway } from '../../contracts.ts';
import type { ConsentStore } from '../../consent/store.ts';
import type { JwksSource } from '../../flows/deps.ts';
import type { CurrentSession } from '../../sessions/browser.ts';
import type { SignedInSession } from '../../sessions/store.ts';
import type { Interaction } from './interactions.ts';
import type { AuthorizationParamName, AuthorizationParams } from './params.ts';

/** `prompt` values this server supports (OIDC Core §3.1.2.1). */
export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

/** A request being validated: each check reads what earlier checks established and adds its part. */
export interface AuthorizeDraft {
  readonly params: AuthorizationParams;
  readonly repeated: readonly AuthorizationParamName[];
  client?: OAuthClient;
  redirectUri?: string;
  redirectUriProvided?: boolean;
  scopes?: string[];
  resources?: string[];
  codeChallenge?: string;
  prompt?: ReadonlySet<Prompt>;
  maxAge?: number;
  hintedSubject?: string;
}

/** A fully validated authorization request. */
export interface AuthorizationRequest {
  params: AuthorizationParams;
  client: OAuthClient;
  redirectUri: string;
  redirectUriProvided: boolean;
  scopes: string[];
  /** RFC 8707 resource indicators named by the request (among the client's audiences); may be empty. */
  resources: string[];
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  prompt: ReadonlySet<Prompt>;
  maxAge: number | undefined;
  /** The `sub` of a verified `id_token_hint`: the only user this request may be answered for. */
  hintedSubject: string | undefined;
}

/** What the request checks may use. */
export interface RequestCheckDeps {
  clients: ClientLookup;
  /** Our published keys (current and still-published previous ones), to verify `id_token_hint`. */
  jwks: JwksSource;
  issuer: string;
}

/** One protocol rule about the request itself; throws AuthorizePageError or AuthorizeError. */
export type RequestCheck = (draft: AuthorizeDraft, deps: RequestCheckDeps) => void | Promise<void>;

/** The state of a validated request while deciding whether the user must act first. */
export interface DecisionContext {
  readonly request: AuthorizationRequest;
  readonly session: CurrentSession | undefined;
  /** The pending interaction being resumed: what the user did after it began satisfies prompts. */
  readonly interaction: Interaction | undefined;
  readonly now: number;
  /** Set by requireLogin. */
  subject?: { user: UserProfile; session: SignedInSession };
  /** Set by selectOrganization (undefined for a user without organizations). */
  orgId?: string | undefined;
}

/** What the decision steps may use. */
export interface DecisionDeps {
  users: UsersGateway;
  consents: ConsentStore;
}

/** One decision before a code is issued; throws AuthorizeError or InteractionRequired. */
export type DecisionStep = (ctx: DecisionContext, deps: DecisionDeps) => Promise<void>;

/** The value an earlier check must have set; a missing one is a wiring bug (checks out of order). */
export function established<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`authorize pipeline: ${what} checked out of order`);
  return value;
}
