import type { FastifyReply } from 'fastify';
import { PATHS } from '../flows/paths.ts';
import { html, sendMessagePage, sendPage } from './html.ts';

/** What the login page shows. */
export interface LoginPageModel {
  csrf: string;
  interaction: string | undefined;
  clientName: string | undefined;
  email?: string | undefined;
  error?: string | undefined;
  formTargets: string[];
}

/** The generic message of every failed login (SECURITY 22: never which part was wrong). */
export const INVALID_CREDENTIALS = 'Invalid email or password.';
/** The message of a locked account or IP (SECURITY 23: never which one). */
export const TOO_MANY_ATTEMPTS = 'Too many failed sign-in attempts. Wait a while, then try again.';

/** The hosted login form: email and password, CSRF token, pending request id. */
export function sendLoginPage(reply: FastifyReply, status: number, model: LoginPageModel): FastifyReply {
  const errorId = model.error ? 'login-error' : undefined;
  return sendPage(
    reply,
    { title: 'Sign in', status, formTargets: model.formTargets },
    html`<h1>Sign in</h1>
      ${model.clientName ? html`<p>to continue to <strong>${model.clientName}</strong></p>` : ''}
      ${model.error ? html`<p class="error" id="login-error" role="alert">${model.error}</p>` : ''}
      <form method="post" action="${PATHS.login}" novalidate>
        <input type="hidden" name="csrf" value="${model.csrf}" />
        ${model.interaction ? html`<input type="hidden" name="interaction" value="${model.interaction}" />` : ''}
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          maxlength="320"
          value="${model.email ?? ''}"
          ${errorId ? html` aria-describedby="${errorId}" aria-invalid="true"` : ''}
          autofocus
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          maxlength="1024"
        />
        <button class="primary" type="submit">Sign in</button>
      </form>`,
  );
}

/** Shown at `/login` to a signed-in browser with nothing pending. */
export function sendSignedInPage(reply: FastifyReply, email: string, csrf: string): FastifyReply {
  return sendPage(
    reply,
    { title: 'Signed in' },
    html`<h1>Signed in</h1>
      <p>You are signed in as <strong>${email}</strong>.</p>
      <form method="post" action="${PATHS.logout}">
        <input type="hidden" name="csrf" value="${csrf}" />
        <button type="submit">Sign out</button>
      </form>`,
  );
}

/** What the organization choice page shows. */
export interface OrganizationPageModel {
  csrf: string;
  interaction: string;
  clientName: string;
  organizations: Array<{ id: string; name: string; slug: string }>;
  error?: string | undefined;
  formTargets: string[];
}

/** Lets a user who belongs to several organizations pick the one the tokens are for. */
export function sendOrganizationPage(
  reply: FastifyReply,
  status: number,
  model: OrganizationPageModel,
): FastifyReply {
  return sendPage(
    reply,
    { title: 'Choose an organization', status, formTargets: model.formTargets },
    html`<h1>Choose an organization</h1>
      <p>Which organization do you want to use with <strong>${model.clientName}</strong>?</p>
      ${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ''}
      <form method="post" action="${PATHS.organization}">
        <input type="hidden" name="csrf" value="${model.csrf}" />
        <input type="hidden" name="interaction" value="${model.interaction}" />
        <fieldset>
          <legend>Organization</legend>
          ${model.organizations.map(
            (org, i) =>
              html`<div class="choice">
                <input
                  type="radio"
                  id="org-${i}"
                  name="org_id"
                  value="${org.id}"
                  required${i === 0 ? html` checked` : ''}
                /><label for="org-${i}">${org.name} <small>(${org.slug})</small></label>
              </div>`,
          )}
        </fieldset>
        <button class="primary" type="submit">Continue</button>
      </form>`,
  );
}

/** The page shown for a form posted from another site or without a valid CSRF token: 403, nothing changed. */
export function sendForbiddenForm(reply: FastifyReply): FastifyReply {
  return sendMessagePage(
    reply,
    403,
    'Request refused',
    'This form was submitted from another site or has expired. Reload the page and try again.',
  );
}

/** The page shown for an unknown, expired or foreign pending request. */
export function sendExpiredRequest(reply: FastifyReply): FastifyReply {
  return sendMessagePage(
    reply,
    400,
    'Sign-in request expired',
    'This sign-in request has expired or was started in another browser. Return to the application and try again.',
  );
}
