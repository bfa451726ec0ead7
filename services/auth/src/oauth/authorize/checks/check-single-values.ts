/*
 * RFC 6749 §3.1: request parameters must not be included more than once. client_id and
 * redirect_uri are checked before (error page); any other repeat is invalid_request.
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

export const checkSingleValues: RequestCheck = (draft) => {
  const first = draft.repeated[0];
  if (first) throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, `${first} was given more than once`);
};
