import type { CurrentSession } from '../../sessions/browser.ts';
import type { AuthorizationRequest } from './context.ts';
import type { AuthorizeFlow } from './flow.ts';
import type { Interaction, Interactions } from './interactions.ts';
import { readAuthorizationParams } from './params.ts';

/** A pending authorization request, re-validated against the client as it is now. */
export interface PendingRequest {
  interaction: Interaction;
  authz: AuthorizationRequest;
}

/** Loads the pending request a page works on (login, organization, consent). */
export class PendingRequests {
  readonly #interactions: Interactions;
  readonly #flow: AuthorizeFlow;

  constructor(interactions: Interactions, flow: AuthorizeFlow) {
    this.#interactions = interactions;
    this.#flow = flow;
  }

  /** The live interaction `id` of this browser's session, still valid; undefined otherwise. */
  async load(current: CurrentSession, id: unknown): Promise<PendingRequest | undefined> {
    const interaction = await this.#interactions.find(id, current.session.id);
    if (!interaction) return undefined;
    const validation = await this.#flow.validate(readAuthorizationParams(interaction.params));
    return validation.kind === 'valid' ? { interaction, authz: validation.request } : undefined;
  }
}

/** The origin a pending request redirects to, which the page's CSP must allow forms to reach. */
export function redirectOrigin(authz: AuthorizationRequest): string[] {
  try {
    const url = new URL(authz.redirectUri);
    // A private-use scheme (RFC 8252 §7.1) has no origin: allow the scheme itself.
    return [url.origin === 'null' ? url.protocol : url.origin];
  } catch {
    return [];
  }
}
