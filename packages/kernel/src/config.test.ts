import { describe, expect, it } from 'vitest';
import { ConfigError, envBool, envEnum, envInt, envUrl, loadConfig } from './config.ts';

const spec = {
  port: envInt('PORT', { default: 8080, min: 0, max: 65535 }),
  db: envUrl('DATABASE_URL', { optional: true, protocols: ['postgres:', 'postgresql:'], secret: true }),
  alg: envEnum('ALG', ['ES256', 'EdDSA'] as const, { default: 'ES256' }),
  open: envBool('OPEN', { default: true }),
};

describe('loadConfig', () => {
  it('applies defaults and parses typed values', () => {
    expect(loadConfig(spec, {})).toEqual({ port: 8080, db: undefined, alg: 'ES256', open: true });
    expect(loadConfig(spec, { PORT: '1', OPEN: 'no', ALG: 'EdDSA' })).toMatchObject({
      port: 1,
      open: false,
      alg: 'EdDSA',
    });
  });

  it('names the variable and the problem in one line', () => {
    expect(() => loadConfig(spec, { PORT: 'eighty' })).toThrow(
      new ConfigError('PORT', 'must be an integer, got "eighty"'),
    );
    expect(() => loadConfig(spec, { PORT: '70000' })).toThrow('config: PORT must be <= 65535');
    expect(() => loadConfig(spec, { DATABASE_URL: 'mysql://x' })).toThrow(
      'config: DATABASE_URL must use postgres: or postgresql:',
    );
    expect(() => loadConfig(spec, { ALG: 'none' })).toThrow('config: ALG must be one of ES256, EdDSA');
  });

  it('never echoes a secret URL in the message', () => {
    try {
      loadConfig(spec, { DATABASE_URL: 'not a url with password hunter2' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('requires variables without default', () => {
    expect(() => loadConfig({ key: envUrl('KEY') }, {})).toThrow('config: KEY is required but not set');
  });
});
