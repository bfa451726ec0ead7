/**
 * The authorization endpoint as two visible lists of named rules (HOUSE-STYLE): first the checks
 * of the request itself, in the order RFC 6749 §4.1.2.1 requires (client and redirect_uri before
 * anything that could be redirected), then the decisions that may need the user.
 */
import type {
  AuthorizationRequest,
  AuthorizeDraft,
  DecisionStep,
  RequestCheck,
  RequestCheckDeps,
} from './context.ts';
import { established } from './context.ts';
import type { ParsedParams } from './params.ts';
import { checkClient } from './checks/check-client.ts';
import { checkRedirectUri } from './checks/check-redirect-uri.ts';
import { checkSingleValues } from './checks/check-single-values.ts';
import { checkRequestObject } from './checks/check-request-object.ts';
import { checkResponseType } from './checks/check-response-type.ts';
import { checkPkce } from './checks/check-pkce.ts';
import { checkScope } from './checks/check-scope.ts';
import { checkResource } from './checks/check-resource.ts';
import { checkPrompt } from './checks/check-prompt.ts';
import { checkMaxAge } from './checks/check-max-age.ts';
import { checkStateAndNonce } from './checks/check-state-and-nonce.ts';
import { checkIdTokenHint } from './checks/check-id-token-hint.ts';
import { requireLogin } from './checks/require-login.ts';
import { requireHintedUser } from './checks/require-hinted-user.ts';
import { selectOrganization } from './checks/select-organization.ts';
import { requireConsent } from './checks/require-consent.ts';

export const REQUEST_CHECKS: readonly RequestCheck[] = [
  checkClient,
  checkRedirectUri,
  checkSingleValues,
  checkRequestObject,
  checkResponseType,
  checkPkce,
  checkScope,
  checkResource,
  checkPrompt,
  checkMaxAge,
  checkStateAndNonce,
  checkIdTokenHint,
];

export const DECISION_STEPS: readonly DecisionStep[] = [
  requireLogin,
  requireHintedUser,
  selectOrganization,
  requireConsent,
];

/**
 * Runs {@link REQUEST_CHECKS} over `draft` (which keeps what was established when a check
 * throws, so the caller knows whether it may redirect) and returns the validated request.
 */
export async function validateAuthorizationRequest(
  draft: AuthorizeDraft,
  deps: RequestCheckDeps,
): Promise<AuthorizationRequest> {
  for (const check of REQUEST_CHECKS) await check(draft, deps);
  return {
    params: draft.params,
    client: established(draft.client, 'client'),
    redirectUri: established(draft.redirectUri, 'redirect_uri'),
    redirectUriProvided: established(draft.redirectUriProvided, 'redirect_uri'),
    scopes: established(draft.scopes, 'scope'),
    resources: established(draft.resources, 'resource'),
    state: draft.params.state,
    nonce: draft.params.nonce,
    codeChallenge: established(draft.codeChallenge, 'code_challenge'),
    prompt: established(draft.prompt, 'prompt'),
    maxAge: draft.maxAge,
    hintedSubject: draft.hintedSubject,
  };
}

/** A fresh draft for the parsed parameters. */
export function draftOf(parsed: ParsedParams): AuthorizeDraft {
  return { params: parsed.params, repeated: parsed.repeated };
}
