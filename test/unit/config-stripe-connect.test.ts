import { ConfigError, loadConfig } from '../../server/config';

/** STRIPE_CONNECT_*: all three or none, each checked for its shape, and never echoed in an error. */
const base = { NODE_ENV: 'test', ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), APP_URL: 'https://meterbridge.example.com' };
const connect = { STRIPE_CONNECT_CLIENT_ID: 'ca_TestPlatform0001', STRIPE_CONNECT_SECRET_KEY: 'sk_test_PlatformSecret0001', STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_ConnectEndpoint0001' };

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Stripe Connect configuration', () => {
  it('when none is set, then Connect is off', () => {
    expect(loadConfig(base).stripeConnect).toBeNull();
  });

  it('when all three are set, then the platform is configured with its redirect URI under APP_URL', () => {
    expect(loadConfig({ ...base, ...connect }).stripeConnect).toEqual({
      clientId: connect.STRIPE_CONNECT_CLIENT_ID,
      secretKey: connect.STRIPE_CONNECT_SECRET_KEY,
      webhookSecret: connect.STRIPE_CONNECT_WEBHOOK_SECRET,
      redirectUri: 'https://meterbridge.example.com/stripe/connect/callback',
    });
  });

  it('when only some are set, then the error names the missing ones', () => {
    const message = configError({ ...base, STRIPE_CONNECT_CLIENT_ID: connect.STRIPE_CONNECT_CLIENT_ID });
    expect(message).toContain('missing STRIPE_CONNECT_SECRET_KEY, STRIPE_CONNECT_WEBHOOK_SECRET');
  });

  it('when a value has the wrong shape, then the variable is named and the value is not echoed', () => {
    const message = configError({ ...base, ...connect, STRIPE_CONNECT_SECRET_KEY: 'rk_test_RestrictedSecret0001' });
    expect(message).toContain('STRIPE_CONNECT_SECRET_KEY');
    expect(message).not.toContain('RestrictedSecret0001');
    expect(configError({ ...base, ...connect, STRIPE_CONNECT_CLIENT_ID: 'acct_123' })).toContain('STRIPE_CONNECT_CLIENT_ID');
  });

  it('when a live platform key would redirect to plain http, then it is refused (Stripe requires HTTPS live redirect URIs)', () => {
    const message = configError({ ...base, ...connect, APP_URL: 'http://meterbridge.example.com', STRIPE_CONNECT_SECRET_KEY: ['sk', 'live', 'PlatformSecret0001'].join('_') });
    expect(message).toContain('APP_URL must be https://');
  });
});
