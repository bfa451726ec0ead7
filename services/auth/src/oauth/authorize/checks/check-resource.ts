/*
 * RFC 8707 §2: `resource` names where the tokens of this grant will be used: absolute URIs without
 * a fragment, and here only the client's registered audiences. Anything else is invalid_target,
 * sent back to the client, never a token for another audience than the one it asked for. The
 * values are kept on the grant: the token request may narrow them, never leave them (§2.2).
 */
import { resourceProblem } from '../../form.ts';
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

/** More resources than any client registers audiences for is a malformed request. */
const MAX_RESOURCES = 10;

export const checkResource: RequestCheck = (draft) => {
  const client = established(draft.client, 'client');
  const requested = draft.params.resource ?? [];
  if (requested.length > MAX_RESOURCES)
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_TARGET, `at most ${MAX_RESOURCES} resource values`);
  for (const resource of requested) {
    const problem = resourceProblem(resource);
    if (problem) throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_TARGET, problem);
    if (!client.audiences.includes(resource))
      throw new AuthorizeError(
        AUTHORIZE_ERRORS.INVALID_TARGET,
        'the requested resource is not available to this client',
      );
  }
  draft.resources = [...new Set(requested)];
};
