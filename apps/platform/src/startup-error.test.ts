import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tessera/kernel';
import { startupFailureLine } from './startup-error.ts';

describe('startupFailureLine', () => {
  it('names the port taken and the variables that move the ports', async () => {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as AddressInfo).port;
    const second = createServer();
    const err = await new Promise<Error>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    first.close();
    expect(startupFailureLine(err)).toBe(
      `tessera: port ${port} on 127.0.0.1 is already in use (another Tessera still running?); stop that process or choose other ports with GATEWAY_PORT, AUTH_PORT and USERS_PORT`,
    );
  });

  it('keeps a configuration error as it names its variable, and anything else as its message', () => {
    expect(startupFailureLine(new ConfigError('GATEWAY_PORT', 'must be an integer'))).toMatch(/GATEWAY_PORT/);
    expect(startupFailureLine(new Error('the embedded database is in use'))).toBe(
      'tessera: the embedded database is in use',
    );
  });
});
