/**
 * Typed application errors with stable codes. One renderer per surface turns them into HTTP:
 * RFC 9457 problem+json for APIs (here, in the HTTP factory), RFC 6749 JSON for OAuth endpoints.
 */

/** Base URI of problem types; `type` = base + code in kebab case. */
export const PROBLEM_BASE = 'https://tessera.dev/problems/';

/** Options shared by every {@link AppError}. */
export interface AppErrorOptions {
  detail?: string;
  cause?: unknown;
  /** Extra members added to the problem document (must hold no secrets). */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Show `detail` to the client even for a 5xx (e.g. 503 "dependency unavailable"); default: status < 500. */
  expose?: boolean;
}

/**
 * An error with a stable `code`, an HTTP `status`, and `expose` (true below 500): only exposed
 * errors show their `detail` to clients.
 *
 * @example
 * throw new AppError('user_not_found', 404, 'Not Found', { detail: 'no user with this id' });
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: string, status: number, title: string, options: AppErrorOptions = {}) {
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.title = title;
    this.expose = options.expose ?? status < 500;
    this.detail = options.detail;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }

  /** The problem `type` URI for this error's code. */
  get type(): string {
    return PROBLEM_BASE + this.code.replaceAll('_', '-');
  }
}

/**
 * 400: the request is malformed or fails validation.
 *
 * @example
 * throw new BadRequestError('invalid_cursor', 'the cursor is not one this server issued');
 */
export class BadRequestError extends AppError {
  constructor(code: string, detail: string, options: Omit<AppErrorOptions, 'detail'> = {}) {
    super(code, 400, 'Bad Request', { ...options, detail });
  }
}

/**
 * 404: the resource does not exist (or the caller may not know it exists).
 *
 * @example
 * throw new NotFoundError('user_not_found', 'no user with this id');
 */
export class NotFoundError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 404, 'Not Found', { detail });
  }
}

/**
 * 409: a unique value is taken or the state conflicts.
 *
 * @example
 * throw new ConflictError('email_taken', 'a user with this email already exists');
 */
export class ConflictError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 409, 'Conflict', { detail });
  }
}

/**
 * 403: authenticated but not allowed.
 *
 * @example
 * throw new ForbiddenError('forbidden', 'requires users:write');
 */
export class ForbiddenError extends AppError {
  constructor(code: string, detail: string) {
    super(code, 403, 'Forbidden', { detail });
  }
}

/**
 * 503: a dependency is unavailable; tells the client when to retry.
 *
 * @example
 * throw new ServiceUnavailableError('upstream_unavailable', 'users service unavailable', 5);
 */
export class ServiceUnavailableError extends AppError {
  constructor(code: string, detail: string, retryAfterSeconds = 5) {
    super(code, 503, 'Service Unavailable', {
      detail,
      headers: { 'retry-after': String(retryAfterSeconds) },
      expose: true,
    });
  }
}

/** The RFC 9457 body this server sends. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/**
 * Renders an error as a problem document; unexposed errors (5xx) become a generic body.
 *
 * @example
 * reply.code(err.status).type('application/problem+json').send(toProblem(err, request.id));
 */
export function toProblem(err: AppError, requestId?: string): ProblemDocument {
  if (!err.expose) {
    return {
      type: PROBLEM_BASE + 'internal',
      title: 'Internal Server Error',
      status: err.status,
      code: 'internal',
      ...(requestId ? { requestId } : {}),
    };
  }
  return {
    ...err.extensions,
    type: err.type,
    title: err.title,
    status: err.status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(requestId ? { requestId } : {}),
  };
}
