/**
 * Failures of bearer-token authentication, with the RFC 6750 §3.1 error codes. Descriptions are
 * fixed strings chosen here: they never echo the token or attacker-controlled header values.
 */
export type TokenErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'missing_token' | 'temporarily_unavailable';

const STATUS: Record<TokenErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  missing_token: 401,
  // The issuer's keys could not be fetched: the token may be fine, so this is not a 401.
  temporarily_unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
};

/**
 * A token was missing, malformed, invalid, or lacks what the route requires.
 *
 * @example
 * throw new TokenError('invalid_token', 'the token has expired');
 */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  readonly status: number;
  /** Space-separated scopes the route needs, for `insufficient_scope`. */
  readonly requiredScope: string | undefined;

  constructor(code: TokenErrorCode, description: string, requiredScope?: string) {
    super(description);
    this.name = 'TokenError';
    this.code = code;
    this.status = STATUS[code];
    this.requiredScope = requiredScope;
  }

  /**
   * The `WWW-Authenticate` value (RFC 6750 §3): no error attributes when no token was sent.
   *
   * @example
   * reply.header('www-authenticate', err.wwwAuthenticate('tessera'));
   */
  wwwAuthenticate(realm = 'tessera'): string {
    if (this.code === 'missing_token') return `Bearer realm="${realm}"`;
    const parts = [`Bearer realm="${realm}"`, `error="${this.code}"`, `error_description="${this.message}"`];
    if (this.requiredScope) parts.push(`scope="${this.requiredScope}"`);
    return parts.join(', ');
  }

  /**
   * The RFC 9457 problem document for this failure.
   *
   * @example
   * reply.code(err.status).type('application/problem+json').send(err.toProblem());
   */
  toProblem(): { type: string; title: string; status: number; detail: string; code: string } {
    const code = this.code === 'missing_token' ? 'invalid_token' : this.code;
    return {
      type: `https://tessera.dev/problems/${code.replaceAll('_', '-')}`,
      title: TITLES[this.status] ?? 'Unauthorized',
      status: this.status,
      detail: this.message,
      code,
    };
  }
}
