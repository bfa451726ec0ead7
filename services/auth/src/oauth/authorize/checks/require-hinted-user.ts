/*
 * OIDC Core §3.1.2.1 (id_token_hint): a client that names the user it expects must never get a
 * code for someone else. A session of another user is not used silently: prompt=none answers
 * login_required, otherwise the user logs in again; if the login made for this request is
 * still not the hinted user, the answer is login_required rather than a code.
 */
import { AUTHORIZE_ERRORS, AuthorizeError, InteractionRequired } from '../errors.ts';
import { established, type DecisionStep } from '../context.ts';

export const requireHintedUser: DecisionStep = async (ctx) => {
  const hinted = ctx.request.hintedSubject;
  if (hinted === undefined) return;
  const { user, session } = established(ctx.subject, 'subject');
  if (user.id === hinted) return;
  if (ctx.request.prompt.has('none')) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.LOGIN_REQUIRED, 'the signed-in user is not the hinted user');
  }
  const loggedInForThisRequest =
    ctx.interaction !== undefined && session.authTime.getTime() >= ctx.interaction.createdAt.getTime();
  if (loggedInForThisRequest) {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.LOGIN_REQUIRED,
      'the user who logged in is not the hinted user',
    );
  }
  throw new InteractionRequired('login');
};
