/**
 * OAuth endpoint errors (token, introspection, revocation) and their one renderer: RFC 6749 §5.2
 * JSON `{ error, error_description }` with `Cache-Control: no-store` — never problem+json there.
 * `invalid_client` after a Basic-auth attempt is a 401 with `WWW-Authenticate` (§5.2).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorReporterOf, safeErrorForLog } from '@tessera/kernel';

/** Error codes of RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8707 §2 and RFC 6750 §3.1 used by our endpoints. */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(OAUTH_ERROR_CODES);

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** Options of {@link OAuthError}. */
export interface OAuthErrorOptions {
  /** Overrides the code's default status (e.g. 413 for a body over the limit). */
  status?: number;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error of an OAuth endpoint with its RFC 6749 `error` code. `description` is sent to the client
 * as `error_description`: a fixed sentence, never an echo of secrets or tokens.
 *
 * @example
 * throw new OAuthError('invalid_grant', 'the authorization code has expired');
 * throw OAuthError.invalidClient('client authentication failed', { basic: true });
 */
export class OAuthError extends AppError {
  readonly error: OAuthErrorCode;
  readonly description: string | undefined;

  constructor(error: OAuthErrorCode, description?: string, options: OAuthErrorOptions = {}) {
    const status = options.status ?? STATUS[error];
    super(error, status, error, {
      ...(description === undefined ? {} : { detail: description }),
      ...(options.headers ? { headers: options.headers } : {}),
      cause: options.cause,
    });
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
  }

  /**
   * `invalid_client`: 401; with `WWW-Authenticate: Basic` when the client tried HTTP Basic (RFC 6749 §5.2).
   *
   * @example
   * throw OAuthError.invalidClient('client authentication failed', { basic: true });
   */
  static invalidClient(description: string, attempt: { basic: boolean }): OAuthError {
    return new OAuthError('invalid_client', description, {
      headers: attempt.basic ? { 'www-authenticate': 'Basic realm="tessera", charset="UTF-8"' } : {},
    });
  }
}

/** The RFC 6749 §5.2 error body. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

/**
 * Maps anything thrown in an OAuth route to an {@link OAuthError}: ours pass through; any
 * {@link AppError} whose `code` is an OAuth error code (e.g. the grants' `GrantError`) keeps its
 * code; body-parser errors become `invalid_request`; the rest is `server_error`.
 *
 * @example
 * const oauthErr = toOAuthError(err);
 */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof AppError && CODES.has(error.code)) {
    const description = (error as { description?: unknown }).description;
    return new OAuthError(
      error.code as OAuthErrorCode,
      typeof description === 'string' ? description : error.detail,
      {
        status: error.status,
        ...(error.headers ? { headers: error.headers } : {}),
      },
    );
  }
  const fe = error as Partial<FastifyError> & { validation?: unknown };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // RFC 6749 §5.2: errors are 400 unless specified otherwise (a client library reads the JSON
    // error of a 400; a 415 is not an OAuth error response).
    return new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new OAuthError('invalid_request', 'the request body is too large', { status: 413 });
  }
  if (fe.validation || (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)) {
    return new OAuthError('invalid_request', 'the request is malformed');
  }
  if (error instanceof AppError && error.status === 503) {
    return new OAuthError(
      'temporarily_unavailable',
      'a dependency is unavailable',
      error.headers ? { headers: error.headers } : {},
    );
  }
  return new OAuthError('server_error', undefined, { cause: error });
}

/**
 * Sends `err` as RFC 6749 §5.2 JSON with `Cache-Control: no-store` and `Pragma: no-cache`;
 * server errors are logged with the request id and rendered without a description.
 *
 * @example
 * return renderOAuthError(request, reply, new OAuthError('invalid_request', 'grant_type is missing'));
 */
export function renderOAuthError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: OAuthError,
): FastifyReply {
  if (err.status >= 500) {
    const reporter = errorReporterOf(request.server);
    if (reporter) reporter.reportRequest(request, err.status, err.cause ?? err);
    else request.log.error({ err: safeErrorForLog(err.cause ?? err) }, 'oauth request failed');
  } else request.log.info({ code: err.error, status: err.status }, 'oauth request rejected');
  const body: OAuthErrorBody = { error: err.error };
  if (err.status < 500 && err.description) body.error_description = err.description;
  if (err.headers) void reply.headers(err.headers);
  return reply
    .code(err.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .send(body);
}

/**
 * A Fastify error handler for an encapsulated scope of OAuth endpoints.
 *
 * @example
 * app.register(async (scope) => { scope.setErrorHandler(oauthErrorHandler); ... });
 */
export function oauthErrorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return renderOAuthError(request, reply, toOAuthError(error));
}
