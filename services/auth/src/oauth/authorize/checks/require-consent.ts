/*
 * OIDC Core §3.1.2.4: a third-party client needs the user's consent to every requested scope,
 * remembered per user and client; prompt=consent asks again; prompt=none answers
 * consent_required (SECURITY 7). First-party clients skip the page unless the request itself
 * asks for it with prompt=consent (§3.1.2.1: the OP SHOULD then prompt).
 */
import { AUTHORIZE_ERRORS, AuthorizeError, InteractionRequired } from '../errors.ts';
import { established, type DecisionStep } from '../context.ts';

export const requireConsent: DecisionStep = async (ctx, deps) => {
  const { client, scopes, prompt } = ctx.request;
  if (client.firstParty && !prompt.has('consent')) return;
  const { user } = established(ctx.subject, 'subject');
  const consent = await deps.consents.find(user.id, client.clientId);
  const granted = new Set(consent?.scopes ?? []);
  const covered = scopes.every((scope) => granted.has(scope));
  const givenForThisRequest =
    consent !== undefined && ctx.interaction !== undefined && consent.updatedAt >= ctx.interaction.createdAt;
  if (covered && (!prompt.has('consent') || givenForThisRequest)) return;
  if (prompt.has('none'))
    throw new AuthorizeError(AUTHORIZE_ERRORS.CONSENT_REQUIRED, 'the user must consent');
  throw new InteractionRequired('consent');
};
