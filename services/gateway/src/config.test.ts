import { describe, expect, it } from 'vitest';
import { loadConfig } from '@tessera/kernel';
import { gatewayConfigFromEnv, gatewayConfigSpec } from './config.ts';

describe('gateway config from the environment', () => {
  it('refreshes registered client origins every 30 s unless told otherwise', () => {
    expect(gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, {})).clientOriginsRefreshMs).toBe(30_000);
    const off = loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: '0' });
    expect(gatewayConfigFromEnv(off).clientOriginsRefreshMs).toBe(0);
  });

  it('names the variable when the refresh interval is out of range', () => {
    expect(() => loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: '-5' })).toThrow(
      /GATEWAY_CLIENT_ORIGINS_REFRESH_MS/,
    );
    expect(() => loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: 'soon' })).toThrow(
      /GATEWAY_CLIENT_ORIGINS_REFRESH_MS/,
    );
  });
});
