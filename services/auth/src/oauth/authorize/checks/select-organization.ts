/*
 * Tessera's organization rule: access tokens carry the authorization claims of one organization.
 * A user in several organizations chooses one per session (the choice page); prompt=none cannot
 * ask, so it answers interaction_required.
 */
import { AUTHORIZE_ERRORS, AuthorizeError, InteractionRequired } from '../errors.ts';
import { established, type DecisionStep } from '../context.ts';

export const selectOrganization: DecisionStep = async (ctx, deps) => {
  const { user, session } = established(ctx.subject, 'subject');
  const organizations = await deps.users.listOrganizations(user.id);
  if (organizations.length <= 1) {
    ctx.orgId = organizations[0]?.id;
    return;
  }
  const chosen = organizations.find((org) => org.id === session.orgId);
  if (chosen) {
    ctx.orgId = chosen.id;
    return;
  }
  if (ctx.request.prompt.has('none')) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INTERACTION_REQUIRED, 'the user must choose an organization');
  }
  throw new InteractionRequired('organization');
};
