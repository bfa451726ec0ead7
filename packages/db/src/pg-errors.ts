/**
 * PostgreSQL error classification by SQLSTATE, for both drivers (pg and PGlite expose `code`).
 * Drizzle wraps driver errors in a `DrizzleQueryError` whose message carries the SQL parameters,
 * so callers must map these to typed errors and never log or return the message itself.
 */
/**
 * The SQLSTATE of a driver error (pg or PGlite), however Drizzle wrapped it; undefined for any
 * other error.
 *
 * @example
 * expect(sqlState(err)).toBe('23514'); // check_violation
 */
export function sqlState(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when `err` (or its cause) is a unique violation (23505), optionally on a named constraint.
 *
 * @example
 * catch (err) { if (isUniqueViolation(err)) throw new ConflictError('email already registered'); throw err; }
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (sqlState(err) !== '23505') return false;
  if (!constraint) return true;
  return findConstraint(err) === constraint;
}

/**
 * True when `err` (or its cause) is a foreign-key violation (23503).
 *
 * @example
 * if (isForeignKeyViolation(err)) throw new NotFoundError('organization not found');
 */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === '23503';
}

function findConstraint(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const name = (current as { constraint?: unknown }).constraint;
    if (typeof name === 'string') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
