/*
 * RFC 9700 §4.1.3, RFC 6749 §4.1.2.1: redirect_uri must equal a registered URI exactly (no
 * normalisation), except RFC 8252 §7.3 loopback IP redirects whose port may vary; anything else
 * is an error page, never a redirect (open redirector, code leakage).
 */
import { matchRedirectUri } from '../../../clients/redirect-uri.ts';
import { AuthorizePageError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

export const checkRedirectUri: RequestCheck = (draft) => {
  const client = established(draft.client, 'client');
  if (draft.repeated.includes('redirect_uri'))
    throw new AuthorizePageError('redirect_uri was given more than once.');
  const requested = draft.params.redirect_uri;
  if (requested === undefined) {
    // OpenID Connect Core §3.1.2.1 makes redirect_uri REQUIRED in an OpenID request.
    if (draft.params.scope?.split(' ').includes('openid'))
      throw new AuthorizePageError('redirect_uri is missing (an OpenID Connect request must name it).');
    // OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered.
    const only = client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
    if (!only) throw new AuthorizePageError('redirect_uri is missing.');
    draft.redirectUri = only;
    draft.redirectUriProvided = false;
    return;
  }
  if (requested.length > 2048 || !matchRedirectUri(client, requested)) {
    throw new AuthorizePageError('redirect_uri is not registered for this application.');
  }
  draft.redirectUri = requested;
  draft.redirectUriProvided = true;
};
