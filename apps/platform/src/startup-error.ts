import { ConfigError } from '@tessera/kernel';

/** The ports of the all-in-one process and the variables that move them. */
const PORT_VARIABLES = 'GATEWAY_PORT, AUTH_PORT and USERS_PORT';

/**
 * The one line `npm start` prints when the platform cannot start: the configuration error as it
 * names its variable, a port already taken with the variables that move the ports, anything else
 * as its message. Never a stack.
 *
 * @example
 * process.stderr.write(`${startupFailureLine(err)}\n`);
 */
export function startupFailureLine(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  const e = err as Error & { code?: string; port?: number; address?: string };
  if (e.code === 'EADDRINUSE') {
    const where = e.port === undefined ? 'a port' : `port ${e.port}${e.address ? ` on ${e.address}` : ''}`;
    return `tessera: ${where} is already in use (another Tessera still running?); stop that process or choose other ports with ${PORT_VARIABLES}`;
  }
  return `tessera: ${e.message}`;
}
