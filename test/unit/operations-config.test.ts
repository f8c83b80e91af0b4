/** RETENTION_DAYS and METRICS_TOKEN in the environment schema (server/config.ts, server/config-fields.ts). */
import { ConfigError, loadConfig } from '../../server/config';

const KEY_B64 = Buffer.alloc(32, 9).toString('base64');

function errorFor(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ ENCRYPTION_KEY: KEY_B64, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('retention and metrics settings', () => {
  it('when neither is set, then text is kept 30 days and /metrics is open', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64 })).toMatchObject({ retentionDays: 30, metricsToken: undefined });
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, RETENTION_DAYS: ' ', METRICS_TOKEN: '' })).toMatchObject({ retentionDays: 30, metricsToken: undefined });
  });

  it('when both are set, then they are used', () => {
    const token = 'a'.repeat(64);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, RETENTION_DAYS: '7', METRICS_TOKEN: token })).toMatchObject({ retentionDays: 7, metricsToken: token });
  });

  it.each(['0', '-1', '2.5', '3651', 'thirty'])('when RETENTION_DAYS is %p, then the error names it', (value) => {
    expect(errorFor({ RETENTION_DAYS: value })).toContain('RETENTION_DAYS');
  });

  it.each(['short', 'has a space in it 0123456789', 'x'.repeat(201)])('when METRICS_TOKEN is %p, then the error names it', (value) => {
    expect(errorFor({ METRICS_TOKEN: value })).toContain('METRICS_TOKEN');
  });
});
