/*
 * OIDC Core §3.1.2.1: prompt is a space-separated list of none, login, consent and
 * select_account; `none` cannot be combined with another value. What each value demands is
 * enforced by the decision steps (a session holds one account, so select_account shows the
 * login page, where the user may sign in as another account, as prompt=login does).
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { Prompt, RequestCheck } from '../context.ts';

const SUPPORTED: ReadonlySet<string> = new Set<Prompt>(['none', 'login', 'consent', 'select_account']);

export const checkPrompt: RequestCheck = (draft) => {
  const values = (draft.params.prompt ?? '').split(' ').filter((v) => v.length > 0);
  const unsupported = values.find((v) => !SUPPORTED.has(v));
  if (unsupported !== undefined)
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'unsupported prompt value');
  const prompt = new Set(values as Prompt[]);
  if (prompt.has('none') && prompt.size > 1) {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.INVALID_REQUEST,
      'prompt=none cannot be combined with other values',
    );
  }
  draft.prompt = prompt;
};
