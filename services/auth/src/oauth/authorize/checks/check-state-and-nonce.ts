/*
 * RFC 6749 §4.1.1, OIDC Core §3.1.2.1: state and nonce are opaque to the server; any value up to
 * a sane length is carried unchanged (state back to the client, nonce into the ID token).
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

/** Longest state or nonce accepted; longer values are refused, never truncated. */
export const MAX_STATE_LENGTH = 2048;

export const checkStateAndNonce: RequestCheck = (draft) => {
  if ((draft.params.state?.length ?? 0) > MAX_STATE_LENGTH) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'state is too long');
  }
  if ((draft.params.nonce?.length ?? 0) > MAX_STATE_LENGTH) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'nonce is too long');
  }
};
