/*
 * RFC 9700 §2.1.2, OAuth 2.1 §4.1.1: only the code flow (`response_type=code`) is offered, with
 * the default query response mode; the implicit and hybrid flows are refused.
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

export const checkResponseType: RequestCheck = (draft) => {
  const client = established(draft.client, 'client');
  const responseType = draft.params.response_type;
  if (responseType === undefined)
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'response_type is required');
  if (responseType !== 'code') {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.UNSUPPORTED_RESPONSE_TYPE,
      'only response_type=code is supported',
    );
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.UNAUTHORIZED_CLIENT,
      'the client may not use the authorization code grant',
    );
  }
  const mode = draft.params.response_mode;
  if (mode !== undefined && mode !== 'query') {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'only response_mode=query is supported');
  }
};
