/*
 * OIDC Core §3.1.2.1: an id_token_hint must be an ID token this server issued to this client
 * (our published keys, our issuer, client_id in `aud`); it may have expired. Anything else is
 * invalid_request, redirected because client and redirect_uri were checked before. Whether the
 * hinted user is the one signed in is requireHintedUser's decision.
 */
import { verifyIdTokenHint } from '../../logout/id-token-hint.ts';
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

/** Longest id_token_hint accepted, as for every token input here (SECURITY 18): refused before any crypto. */
export const MAX_ID_TOKEN_HINT_LENGTH = 8 * 1024;

export const checkIdTokenHint: RequestCheck = async (draft, deps) => {
  const client = established(draft.client, 'client');
  const raw = draft.params.id_token_hint;
  // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
  if (raw === undefined || raw === '') return;
  if (raw.length > MAX_ID_TOKEN_HINT_LENGTH) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'id_token_hint is too long');
  }
  const hint = await verifyIdTokenHint(raw, deps);
  if (!hint?.audience.includes(client.clientId)) {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.INVALID_REQUEST,
      'id_token_hint is not a valid ID token issued by this server to this client',
    );
  }
  draft.hintedSubject = hint.sub;
};
