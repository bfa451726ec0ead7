/**
 * A loggable copy of an error without what libraries put in messages that must not reach logs
 * (Drizzle appends SQL parameters to its query errors: those can be emails or password hashes).
 *
 * @example
 * log.error({ err: safeErrorForLog(err) }, 'failed');
 */
export function safeErrorForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: 'non-error thrown', kind: typeof error };
  const strip = (text: string) => text.replace(/\nparams:[\s\S]*$/, '\nparams: [redacted]');
  const out: Record<string, unknown> = {
    type: error.name,
    message: strip(error.message),
    stack: error.stack ? strip(error.stack) : undefined,
  };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error.cause instanceof Error) out.cause = safeErrorForLog(error.cause);
  return out;
}
