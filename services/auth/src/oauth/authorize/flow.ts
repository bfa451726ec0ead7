import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '@tessera/kernel';
import type { ClientLookup, UsersGateway } from '../../contracts.ts';
import type { ConsentStore } from '../../consent/store.ts';
import type { AuthorizationCodes } from '../../grants/codes.ts';
import type { GrantFamilies } from '../../grants/families.ts';
import type { BrowserSessions, CurrentSession } from '../../sessions/browser.ts';
import type { JwksSource } from '../../flows/deps.ts';
import { PATHS, pathWithQuery } from '../../flows/paths.ts';
import type { AuthorizationRequest, DecisionContext } from './context.ts';
import { established } from './context.ts';
import { AuthorizeError, AuthorizePageError, InteractionRequired, type InteractionKind } from './errors.ts';
import type { Interaction, Interactions } from './interactions.ts';
import type { ParsedParams } from './params.ts';
import { DECISION_STEPS, draftOf, validateAuthorizationRequest } from './pipeline.ts';
import { errorLocation, sendAuthorizeErrorPage, sendRedirect, successLocation } from './respond.ts';

/** Dependencies of {@link AuthorizeFlow}. */
export interface AuthorizeFlowDeps {
  clients: ClientLookup;
  users: UsersGateway;
  consents: ConsentStore;
  interactions: Interactions;
  sessions: BrowserSessions;
  families: GrantFamilies;
  codes: AuthorizationCodes;
  clock: Clock;
  issuer: string;
  /** Our published keys, to verify `id_token_hint`. */
  jwks: JwksSource;
  codeTtlSeconds: number;
}

const INTERACTION_PAGES: Record<InteractionKind, string> = {
  login: PATHS.login,
  organization: PATHS.organization,
  consent: PATHS.consent,
};

/** The outcome of validating a stored or incoming request. */
export type Validation =
  | { kind: 'valid'; request: AuthorizationRequest }
  | { kind: 'page'; error: AuthorizePageError }
  | { kind: 'redirect'; error: AuthorizeError; redirectUri: string; state: string | undefined };

/**
 * Answers authorization requests: validates them, sends the user to the pages they need
 * (login, organization, consent) through a pending interaction, and finally redirects to the
 * client with a code or an error.
 */
export class AuthorizeFlow {
  readonly #deps: AuthorizeFlowDeps;

  constructor(deps: AuthorizeFlowDeps) {
    this.#deps = deps;
  }

  /** Validates a request without deciding anything (the pages use it to show client and scopes). */
  async validate(parsed: ParsedParams): Promise<Validation> {
    const draft = draftOf(parsed);
    try {
      return { kind: 'valid', request: await validateAuthorizationRequest(draft, this.#deps) };
    } catch (err) {
      if (err instanceof AuthorizePageError) return { kind: 'page', error: err };
      if (err instanceof AuthorizeError) {
        return {
          kind: 'redirect',
          error: err,
          redirectUri: established(draft.redirectUri, 'redirect_uri'),
          state: draft.params.state,
        };
      }
      throw err;
    }
  }

  /** Handles a request, fresh (`interaction` undefined) or resumed after a page. */
  async run(
    request: FastifyRequest,
    reply: FastifyReply,
    parsed: ParsedParams,
    session: CurrentSession | undefined,
    interaction: Interaction | undefined,
  ): Promise<FastifyReply> {
    const validation = await this.validate(parsed);
    if (validation.kind === 'page') return sendAuthorizeErrorPage(reply, validation.error.description);
    if (validation.kind === 'redirect') {
      if (interaction) await this.#deps.interactions.delete(interaction.id);
      return sendRedirect(
        request,
        reply,
        errorLocation({ ...validation, issuer: this.#deps.issuer }, validation.error),
      );
    }
    const authz = validation.request;
    const target = { redirectUri: authz.redirectUri, state: authz.state, issuer: this.#deps.issuer };
    const ctx: DecisionContext = { request: authz, session, interaction, now: this.#deps.clock.now() };
    try {
      for (const step of DECISION_STEPS) await step(ctx, this.#deps);
    } catch (err) {
      if (err instanceof InteractionRequired) {
        const current = session ?? (await this.#deps.sessions.ensure(request, reply));
        const pending =
          interaction ?? (await this.#deps.interactions.create(current.session.id, parsed.params));
        return reply
          .header('cache-control', 'no-store')
          .redirect(pathWithQuery(INTERACTION_PAGES[err.kind], { interaction: pending.id }), 303);
      }
      if (err instanceof AuthorizeError) {
        if (interaction) await this.#deps.interactions.delete(interaction.id);
        return sendRedirect(request, reply, errorLocation(target, err));
      }
      throw err;
    }
    const code = await this.#issueCode(authz, ctx);
    if (interaction) await this.#deps.interactions.delete(interaction.id);
    return sendRedirect(request, reply, successLocation(target, code));
  }

  /** Sends the client an error for a pending request (the user denied consent). */
  async reject(
    request: FastifyRequest,
    reply: FastifyReply,
    interaction: Interaction,
    authz: AuthorizationRequest,
    error: AuthorizeError,
  ): Promise<FastifyReply> {
    await this.#deps.interactions.delete(interaction.id);
    const target = { redirectUri: authz.redirectUri, state: authz.state, issuer: this.#deps.issuer };
    return sendRedirect(request, reply, errorLocation(target, error));
  }

  async #issueCode(authz: AuthorizationRequest, ctx: DecisionContext): Promise<string> {
    const { user, session } = established(ctx.subject, 'subject');
    const familyId = await this.#deps.families.create({
      clientId: authz.client.clientId,
      userId: user.id,
      orgId: ctx.orgId,
      sessionId: session.id,
      scope: authz.scopes.join(' '),
      resources: authz.resources,
      authTime: session.authTime,
      absoluteTtlSeconds: authz.client.refreshTokenAbsoluteTtlSeconds,
    });
    return this.#deps.codes.create({
      familyId,
      redirectUri: authz.redirectUri,
      redirectUriProvided: authz.redirectUriProvided,
      codeChallenge: authz.codeChallenge,
      nonce: authz.nonce,
      ttlSeconds: this.#deps.codeTtlSeconds,
    });
  }
}
