/*
 * OIDC Core §6: request objects are not supported yet, so `request` and `request_uri` are refused
 * with request_not_supported / request_uri_not_supported, and nothing is ever fetched.
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

export const checkRequestObject: RequestCheck = (draft) => {
  if (draft.params.request !== undefined) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.REQUEST_NOT_SUPPORTED, 'request objects are not supported');
  }
  if (draft.params.request_uri !== undefined) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.REQUEST_URI_NOT_SUPPORTED, 'request_uri is not supported');
  }
};
