/*
 * OIDC Core §3.1.2.3, §3.1.2.1: a signed-in, still active user is required. prompt=login and an
 * exceeded max_age demand a login newer than the request; prompt=none never shows a page and
 * answers login_required instead (SECURITY 7). A disabled user or a password changed since the
 * login ends the session's validity (SECURITY 14b).
 */
import type { UserProfile } from '../../../contracts.ts';
import { isSignedIn, type SignedInSession } from '../../../sessions/store.ts';
import { AUTHORIZE_ERRORS, AuthorizeError, InteractionRequired } from '../errors.ts';
import type { DecisionContext, DecisionStep } from '../context.ts';

function isStillValid(user: UserProfile | undefined, session: SignedInSession): user is UserProfile {
  if (!user || user.status !== 'active') return false;
  const changed = user.passwordChangedAt ? Date.parse(user.passwordChangedAt) : Number.NaN;
  return !(changed > session.authTime.getTime());
}

function loginIsFreshEnough(ctx: DecisionContext, session: SignedInSession): boolean {
  const authTime = session.authTime.getTime();
  // A login completed after this request began satisfies prompt=login, select_account and max_age.
  if (ctx.interaction && authTime >= ctx.interaction.createdAt.getTime()) return true;
  const { prompt, maxAge } = ctx.request;
  if (prompt.has('login') || prompt.has('select_account') || maxAge === 0) return false;
  return maxAge === undefined || (ctx.now - authTime) / 1000 <= maxAge;
}

export const requireLogin: DecisionStep = async (ctx, deps) => {
  const session = ctx.session?.session;
  if (isSignedIn(session)) {
    const user = await deps.users.getUser(session.userId);
    if (isStillValid(user, session) && loginIsFreshEnough(ctx, session)) {
      ctx.subject = { user, session };
      return;
    }
  }
  if (ctx.request.prompt.has('none'))
    throw new AuthorizeError(AUTHORIZE_ERRORS.LOGIN_REQUIRED, 'the user must log in');
  throw new InteractionRequired('login');
};
