/*
 * RFC 6749 §4.1.2.1: if client_id is missing, repeated or unknown, the server must not redirect
 * (it cannot know a trustworthy redirect_uri); the user gets an error page instead.
 */
import { AuthorizePageError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

export const checkClient: RequestCheck = async (draft, deps) => {
  if (draft.repeated.includes('client_id'))
    throw new AuthorizePageError('client_id was given more than once.');
  const clientId = draft.params.client_id;
  if (!clientId) throw new AuthorizePageError('client_id is missing.');
  const client = clientId.length <= 255 ? await deps.clients.find(clientId) : undefined;
  if (!client) throw new AuthorizePageError('The application is not registered with this server.');
  draft.client = client;
};
