import type { FastifyReply } from 'fastify';
import { PATHS } from '../../flows/paths.ts';
import { html, sendMessagePage, sendPage } from '../../login/html.ts';

/** What the logout confirmation form carries over to `POST /logout`. */
export interface LogoutConfirmModel {
  csrf: string;
  clientId: string | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  formTargets: string[];
}

/** Asks the user to confirm (a logout request without a matching id_token_hint could be forged). */
export function sendLogoutConfirmPage(reply: FastifyReply, model: LogoutConfirmModel): FastifyReply {
  return sendPage(
    reply,
    { title: 'Sign out', formTargets: model.formTargets },
    html`<h1>Sign out?</h1>
      <p>Do you want to sign out of your account on this device?</p>
      <form method="post" action="${PATHS.logout}">
        <input type="hidden" name="csrf" value="${model.csrf}" />
        ${model.clientId ? html`<input type="hidden" name="client_id" value="${model.clientId}" />` : ''}
        ${model.postLogoutRedirectUri ? html`<input type="hidden" name="post_logout_redirect_uri" value="${model.postLogoutRedirectUri}" />` : ''}
        ${model.state !== undefined ? html`<input type="hidden" name="state" value="${model.state}" />` : ''}
        <button class="primary" type="submit">Sign out</button>
      </form>`,
  );
}

/** Shown after a logout without a (registered) post_logout_redirect_uri. */
export function sendSignedOutPage(reply: FastifyReply): FastifyReply {
  return sendMessagePage(reply, 200, 'Signed out', 'You are signed out. You can close this window.');
}

/** Shown for a logout request that cannot be honoured as asked (never redirected: open redirect). */
export function sendLogoutErrorPage(reply: FastifyReply, description: string): FastifyReply {
  return sendMessagePage(reply, 400, 'Sign-out request rejected', description);
}
