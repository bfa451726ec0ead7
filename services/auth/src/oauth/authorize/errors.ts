import { AppError } from '@tessera/kernel';

/** Error codes the authorization endpoint returns to the client (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). */
export const AUTHORIZE_ERRORS = {
  INVALID_REQUEST: 'invalid_request',
  UNAUTHORIZED_CLIENT: 'unauthorized_client',
  ACCESS_DENIED: 'access_denied',
  UNSUPPORTED_RESPONSE_TYPE: 'unsupported_response_type',
  INVALID_SCOPE: 'invalid_scope',
  SERVER_ERROR: 'server_error',
  LOGIN_REQUIRED: 'login_required',
  CONSENT_REQUIRED: 'consent_required',
  INTERACTION_REQUIRED: 'interaction_required',
  REQUEST_NOT_SUPPORTED: 'request_not_supported',
  REQUEST_URI_NOT_SUPPORTED: 'request_uri_not_supported',
  INVALID_TARGET: 'invalid_target',
} as const;

export type AuthorizeErrorCode = (typeof AUTHORIZE_ERRORS)[keyof typeof AUTHORIZE_ERRORS];

/**
 * An error reported to the client by redirecting to its (already validated) redirect_uri with
 * `error`, `error_description`, `state` and `iss`.
 */
export class AuthorizeError extends AppError {
  readonly error: AuthorizeErrorCode;
  readonly description: string;

  constructor(error: AuthorizeErrorCode, description: string) {
    super(error, 400, 'Bad Request', { detail: description });
    this.name = 'AuthorizeError';
    this.error = error;
    this.description = description;
  }
}

/**
 * An error that must not be redirected (RFC 6749 §4.1.2.1): the client or its redirect_uri
 * cannot be trusted, so the user sees an error page instead.
 */
export class AuthorizePageError extends AppError {
  readonly description: string;

  constructor(description: string) {
    super('invalid_authorization_request', 400, 'Bad Request', { detail: description });
    this.name = 'AuthorizePageError';
    this.description = description;
  }
}

/** Where the user must go before the request can be answered. */
export type InteractionKind = 'login' | 'organization' | 'consent';

/** Thrown by a decision step that needs the user (a page) before it can continue. */
export class InteractionRequired extends Error {
  readonly kind: InteractionKind;

  constructor(kind: InteractionKind) {
    super(`interaction required: ${kind}`);
    this.name = 'InteractionRequired';
    this.kind = kind;
  }
}
