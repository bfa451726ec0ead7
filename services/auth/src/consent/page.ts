import type { FastifyReply } from 'fastify';
import { PATHS } from '../flows/paths.ts';
import { html, sendPage } from '../login/html.ts';
import { describeScope } from './scopes.ts';

/** What the consent page shows. */
export interface ConsentPageModel {
  csrf: string;
  interaction: string;
  clientName: string;
  scopes: string[];
  formTargets: string[];
}

/** Lists what a third-party client asks for; Allow and Deny post back with the CSRF token. */
export function sendConsentPage(reply: FastifyReply, model: ConsentPageModel): FastifyReply {
  return sendPage(
    reply,
    { title: 'Allow access?', formTargets: model.formTargets },
    html`<h1>Allow access?</h1>
      <p><strong>${model.clientName}</strong> would like to:</p>
      <ul>
        ${model.scopes.map((scope) => html`<li>${describeScope(scope)} <small>(${scope})</small></li>`)}
      </ul>
      <form method="post" action="${PATHS.consent}">
        <input type="hidden" name="csrf" value="${model.csrf}" />
        <input type="hidden" name="interaction" value="${model.interaction}" />
        <div class="actions">
          <button class="primary" type="submit" name="decision" value="allow">Allow</button>
          <button type="submit" name="decision" value="deny">Deny</button>
        </div>
      </form>`,
  );
}
