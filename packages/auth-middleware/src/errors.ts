/**
 * Failures of bearer-token authentication with the RFC 6750 §3.1 error codes, rendered either as a
 * `WWW-Authenticate` challenge or as an RFC 9457 problem document. Descriptions are fixed strings
 * chosen in this package: they never echo the token or attacker-controlled header values.
 */

/**
 * Stable codes of {@link TokenError}. `missing_token` is a request without credentials (RFC 6750
 * §3.1: the challenge then carries no error); `temporarily_unavailable` means the issuer's keys or
 * the revocation check could not be consulted, so the token may well be valid.
 *
 * @example
 * const code: TokenErrorCode = 'insufficient_scope';
 */
export type TokenErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'missing_token' | 'temporarily_unavailable';

/**
 * Options of {@link TokenError}.
 *
 * @example
 * new TokenError('insufficient_scope', 'the token lacks a required scope', { requiredScope: 'users:read' });
 */
export interface TokenErrorOptions {
  /** Space-separated scopes the route needs; becomes the challenge's `scope` attribute (RFC 6750 §3). */
  requiredScope?: string;
  /** The underlying failure, for server-side logs only; never rendered. */
  cause?: unknown;
}

const STATUS: Record<TokenErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  missing_token: 401,
  insufficient_scope: 403,
  // The keys or the revocation check could not be consulted: the token may be fine, so not a 401.
  temporarily_unavailable: 503,
};

const TITLES: Record<TokenErrorCode, string> = {
  invalid_request: 'Bad Request',
  invalid_token: 'Unauthorized',
  missing_token: 'Unauthorized',
  insufficient_scope: 'Forbidden',
  temporarily_unavailable: 'Service Unavailable',
};

/** Base URI of problem types, as in `@tessera/kernel`: type = base + code in kebab case. */
const PROBLEM_BASE = 'https://tessera.dev/problems/';

/**
 * The RFC 9457 problem document of a {@link TokenError}.
 *
 * @example
 * const body: TokenProblem = err.toProblem();
 */
export interface TokenProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: TokenErrorCode;
  /** The request's id, as in every other problem document of the service (when known). */
  requestId?: string;
}

/**
 * A token was missing, malformed, invalid or lacks what the route requires; `status` is the HTTP
 * status to answer with (400, 401, 403 or 503).
 *
 * @example
 * throw new TokenError('invalid_token', 'the token has expired');
 */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  readonly status: number;
  /** Space-separated scopes the route needs, for `insufficient_scope`. */
  readonly requiredScope: string | undefined;

  constructor(code: TokenErrorCode, description: string, options: TokenErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenError';
    this.code = code;
    this.status = STATUS[code];
    this.requiredScope = options.requiredScope;
  }

  /**
   * The RFC 6750 §3 `WWW-Authenticate` value: a bare `Bearer realm="…"` when no token was sent,
   * `error`, `error_description` (and `scope`) otherwise; undefined for `temporarily_unavailable`,
   * which is no authentication failure.
   *
   * @example
   * const challenge = err.wwwAuthenticate('tessera');
   * if (challenge) reply.header('www-authenticate', challenge);
   */
  wwwAuthenticate(realm = 'tessera'): string | undefined {
    if (this.code === 'temporarily_unavailable') return undefined;
    const parts = [`Bearer realm="${quotable(realm)}"`];
    if (this.code !== 'missing_token') {
      parts.push(`error="${this.code}"`, `error_description="${quotable(this.message)}"`);
      if (this.requiredScope) parts.push(`scope="${quotable(this.requiredScope)}"`);
    }
    return parts.join(', ');
  }

  /**
   * The RFC 9457 problem document (`application/problem+json`) for this failure.
   *
   * @example
   * reply.code(err.status).type('application/problem+json').send(err.toProblem());
   */
  toProblem(requestId?: string): TokenProblem {
    return {
      type: PROBLEM_BASE + this.code.replaceAll('_', '-'),
      title: TITLES[this.code],
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(requestId ? { requestId } : {}),
    };
  }
}

const REALM = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Checks a configured realm once, when the adapter is built (TypeError): it is quoted in headers.
 *
 * @example
 * checkRealm('fastifyAuth', options.realm ?? 'tessera');
 */
export function checkRealm(owner: string, realm: unknown): asserts realm is string {
  if (typeof realm !== 'string' || !REALM.test(realm))
    throw new TypeError(`${owner}: realm must be non-empty printable ASCII without quotes or backslashes`);
}

/**
 * RFC 6750 §3: attribute values may not contain `"` or `\` (nor, for error_description and scope,
 * anything outside printable ASCII). Values are fixed strings or checked configuration already;
 * this is the last line of defence against a header injection.
 */
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}
