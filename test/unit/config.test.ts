import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { HIGHLEVEL_ED25519_PUBLIC_KEY, HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY } from '../../server/highlevel/published-keys';
import { makeSigningKeys } from '../support/highlevel-fixtures';

const KEY = Buffer.alloc(32, 9);
const KEY_B64 = KEY.toString('base64');

const tempDirs: string[] = [];
/** A fresh, empty temp directory, removed after the file. */
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meterbridge-config-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig refuses look-alike values', () => {
  it.each(['', '  '])('when PORT is empty (%p), then the default 3000 applies', (port) => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, PORT: port }).port).toBe(3000);
  });

  it.each([`!!!${KEY_B64}`, `***${KEY_B64}***`, KEY.toString('base64url')])('when ENCRYPTION_KEY is not strict base64 (%p), then the error names it', (value) => {
    expect(configError({ ENCRYPTION_KEY: value }).message).toContain('ENCRYPTION_KEY');
  });

  it('when a private key is given as HIGHLEVEL_WEBHOOK_PUBLIC_KEY, then it is refused', () => {
    const { privateKey } = require('node:crypto').generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_PUBLIC_KEY: pem }).message).toContain('HIGHLEVEL_WEBHOOK_PUBLIC_KEY');
  });

  it('when the RSA key is given as the Ed25519 key, or the other way round, then each is refused by name', () => {
    expect(configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_PUBLIC_KEY: HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY }).message).toContain('HIGHLEVEL_WEBHOOK_PUBLIC_KEY');
    expect(configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: HIGHLEVEL_ED25519_PUBLIC_KEY }).message).toContain('HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY');
  });
});

describe('loadConfig defaults', () => {
  it('when only ENCRYPTION_KEY is set, then every other value takes its default', () => {
    const config = loadConfig({ ENCRYPTION_KEY: KEY_B64 });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      appUrl: 'http://localhost:3000',
      database: { dataDir: './data' },
      dataDir: './data',
      encryptionKey: KEY,
      highLevel: {
        clientId: undefined,
        clientSecret: undefined,
        sharedSecret: undefined,
        webhookPublicKey: HIGHLEVEL_ED25519_PUBLIC_KEY,
        webhookLegacyPublicKey: HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY,
        apiUrl: 'https://services.leadconnectorhq.com',
        marketplaceUrl: 'https://marketplace.gohighlevel.com',
      },
      stripeApiUrl: undefined,
      logLevel: 'info',
    });
  });

  it('when DATA_DIR is set and no DATABASE_URL, then the database is embedded in DATA_DIR', () => {
    const dir = tempDir();
    const config = loadConfig({ ENCRYPTION_KEY: KEY_B64, DATA_DIR: dir });
    expect(config.database).toEqual({ dataDir: dir });
    expect(config.dataDir).toBe(dir);
  });

  it('when PORT is set but APP_URL is not, then appUrl is localhost on that port', () => {
    const config = loadConfig({ ENCRYPTION_KEY: KEY_B64, PORT: '8080' });
    expect(config.port).toBe(8080);
    expect(config.appUrl).toBe('http://localhost:8080');
  });

  it('when variables are set to the empty string, then they count as unset', () => {
    const config = loadConfig({
      ENCRYPTION_KEY: KEY_B64,
      APP_URL: '',
      DATABASE_URL: '',
      HIGHLEVEL_API_URL: '',
      HIGHLEVEL_WEBHOOK_PUBLIC_KEY: '',
      STRIPE_API_URL: '',
    });
    expect(config.appUrl).toBe('http://localhost:3000');
    expect(config.database).toEqual({ dataDir: './data' });
    expect(config.highLevel.apiUrl).toBe('https://services.leadconnectorhq.com');
    expect(config.highLevel.webhookPublicKey).toBe(HIGHLEVEL_ED25519_PUBLIC_KEY);
    expect(config.stripeApiUrl).toBeUndefined();
  });
});

describe('loadConfig values', () => {
  it('when DATABASE_URL is set, then the database is that server', () => {
    const url = 'postgres://meter:pw@db.internal:5432/meterbridge';
    const config = loadConfig({ ENCRYPTION_KEY: KEY_B64, DATABASE_URL: url, DATA_DIR: tempDir() });
    expect(config.database).toEqual({ url });
  });

  it('when REPORTER_LEASE_SECONDS is unset, then the lease is 3 × the Stripe timeout + 30 s; when set, it is used; when not longer than the timeout, it is refused', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, STRIPE_TIMEOUT_SECONDS: '2.5' }).reporter.leaseSeconds).toBe(39);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, STRIPE_TIMEOUT_SECONDS: '1', REPORTER_LEASE_SECONDS: '4' }).reporter.leaseSeconds).toBe(4);
    expect(configError({ ENCRYPTION_KEY: KEY_B64, STRIPE_TIMEOUT_SECONDS: '5', REPORTER_LEASE_SECONDS: '5' }).message).toContain('REPORTER_LEASE_SECONDS');
  });

  it('when INTAKE_WRITES_IN_FLIGHT is unset, then it is 4 on a server and 1 on PGlite; when set, it is used; out of 1–64, it is refused', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, DATABASE_URL: 'postgres://db.example:5432/mb' }).intakeWritesInFlight).toBe(4);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64 }).intakeWritesInFlight).toBe(1);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, INTAKE_WRITES_IN_FLIGHT: '8' }).intakeWritesInFlight).toBe(8);
    expect(configError({ ENCRYPTION_KEY: KEY_B64, INTAKE_WRITES_IN_FLIGHT: '0' }).message).toMatch(/INTAKE_WRITES_IN_FLIGHT/);
  });

  it('when DATABASE_URL is not a postgres URL, then the error names DATABASE_URL', () => {
    expect(configError({ ENCRYPTION_KEY: KEY_B64, DATABASE_URL: 'mysql://db/x' }).message).toContain('DATABASE_URL');
  });

  it('when URLs end in slashes, then the slashes are stripped', () => {
    const config = loadConfig({
      ENCRYPTION_KEY: KEY_B64,
      APP_URL: 'https://meter.example.com/',
      HIGHLEVEL_API_URL: 'http://127.0.0.1:4010//',
      HIGHLEVEL_MARKETPLACE_URL: 'https://marketplace.example.com/',
      STRIPE_API_URL: 'http://localhost:12111/',
    });
    expect(config.appUrl).toBe('https://meter.example.com');
    expect(config.highLevel.apiUrl).toBe('http://127.0.0.1:4010');
    expect(config.highLevel.marketplaceUrl).toBe('https://marketplace.example.com');
    expect(config.stripeApiUrl).toBe('http://localhost:12111');
  });

  it('when STRIPE_API_URL is unset, then stripeApiUrl is undefined; when set, it is kept', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64 }).stripeApiUrl).toBeUndefined();
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, STRIPE_API_URL: 'http://localhost:12111' }).stripeApiUrl).toBe('http://localhost:12111');
  });

  it.each(['APP_URL', 'HIGHLEVEL_API_URL', 'HIGHLEVEL_MARKETPLACE_URL', 'STRIPE_API_URL'])(
    'when %s is not an http(s) URL, then the error names it',
    (name) => {
      expect(configError({ ENCRYPTION_KEY: KEY_B64, [name]: 'ftp://files.example.com' }).message).toContain(name);
      expect(configError({ ENCRYPTION_KEY: KEY_B64, [name]: 'not a url' }).message).toContain(name);
    },
  );

  it.each(['abc', '70000', '-1', '3000.5'])('when PORT is %p, then the error names PORT', (port) => {
    expect(configError({ ENCRYPTION_KEY: KEY_B64, PORT: port }).message).toContain('PORT');
  });

  it('when NODE_ENV or LOG_LEVEL is not a known value, then the error names it', () => {
    expect(configError({ ENCRYPTION_KEY: KEY_B64, NODE_ENV: 'staging' }).message).toContain('NODE_ENV');
    expect(configError({ ENCRYPTION_KEY: KEY_B64, LOG_LEVEL: 'verbose' }).message).toContain('LOG_LEVEL');
  });

  it('when the HighLevel client settings are set, then they are passed through', () => {
    const config = loadConfig({
      ENCRYPTION_KEY: KEY_B64,
      HIGHLEVEL_CLIENT_ID: 'client-id',
      HIGHLEVEL_CLIENT_SECRET: 'client-secret',
      HIGHLEVEL_SHARED_SECRET: 'shared-secret',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    });
    expect(config.highLevel).toMatchObject({ clientId: 'client-id', clientSecret: 'client-secret', sharedSecret: 'shared-secret' });
    expect(config.logLevel).toBe('silent');
    expect(config.nodeEnv).toBe('test');
  });

  it('when HIGHLEVEL_WORKFLOW_ACTION_SECRET is short or has spaces, then the error names it; a long one is kept; unset, there is none', () => {
    for (const bad of ['too-short', `${'a'.repeat(20)} ${'b'.repeat(20)}`]) {
      expect(configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WORKFLOW_ACTION_SECRET: bad }).message).toContain('HIGHLEVEL_WORKFLOW_ACTION_SECRET');
    }
    const secret = 'f'.repeat(64);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WORKFLOW_ACTION_SECRET: secret }).highLevel.workflowActionSecret).toBe(secret);
    expect(loadConfig({ ENCRYPTION_KEY: KEY_B64 }).highLevel.workflowActionSecret).toBeUndefined();
  });
});

describe('loadConfig encryption key', () => {
  it('when ENCRYPTION_KEY is 32 bytes of base64, then it is the key', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(loadConfig({ ENCRYPTION_KEY: key.toString('base64') }).encryptionKey).toEqual(key);
  });

  it.each([
    ['16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['64 bytes', Buffer.alloc(64, 1).toString('base64')],
    ['a 32-character passphrase', 'correct horse battery staple 123'],
  ])('when ENCRYPTION_KEY is %s, then the error names ENCRYPTION_KEY', (_what, value) => {
    expect(configError({ ENCRYPTION_KEY: value, DATA_DIR: tempDir() }).message).toContain('ENCRYPTION_KEY');
  });

  it('when NODE_ENV=production and ENCRYPTION_KEY is unset, then the error names ENCRYPTION_KEY and no key file is written', () => {
    const dir = tempDir();
    const err = configError({ NODE_ENV: 'production', DATA_DIR: dir });
    expect(err.message).toContain('ENCRYPTION_KEY');
    expect(existsSync(path.join(dir, 'encryption.key'))).toBe(false);
  });

  it('when DEMO=true (npm run demo) is combined with NODE_ENV=production, then the error names DEMO; otherwise demo is off unless asked', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(configError({ DEMO: 'true', NODE_ENV: 'production', ENCRYPTION_KEY: key, DATA_DIR: tempDir() }).message).toContain('DEMO');
    expect(loadConfig({ ENCRYPTION_KEY: key, DATA_DIR: tempDir() }).demo).toBe(false);
    expect(loadConfig({ DEMO: 'true', ENCRYPTION_KEY: key, DATA_DIR: tempDir() }).demo).toBe(true);
  });

  it('when DATABASE_URL is set and ENCRYPTION_KEY is unset, then the error names ENCRYPTION_KEY and no key file is written', () => {
    const dir = tempDir();
    const err = configError({ DATABASE_URL: 'postgres://db.internal/meterbridge', DATA_DIR: dir });
    expect(err.message).toContain('ENCRYPTION_KEY');
    expect(existsSync(path.join(dir, 'encryption.key'))).toBe(false);
  });

  it('when embedded and ENCRYPTION_KEY is unset, then a 0600 key file is generated once, with one warning naming ENCRYPTION_KEY', () => {
    const dir = tempDir();
    const warn = jest.fn();
    const first = loadConfig({ DATA_DIR: dir }, warn);

    const file = path.join(dir, 'encryption.key');
    expect(first.encryptionKey).toHaveLength(32);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toEqual(first.encryptionKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain('ENCRYPTION_KEY');

    const warnAgain = jest.fn();
    const second = loadConfig({ DATA_DIR: dir }, warnAgain);
    expect(second.encryptionKey).toEqual(first.encryptionKey);
    expect(warnAgain).not.toHaveBeenCalled();
  });

  it('when embedded in a DATA_DIR that does not exist yet, then it is created to hold the key file', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const config = loadConfig({ DATA_DIR: dir });
    expect(readFileSync(path.join(dir, 'encryption.key'), 'utf8').trim()).toBe(config.encryptionKey.toString('base64'));
  });

  it('when two data directories each generate a key, then the keys differ', () => {
    expect(loadConfig({ DATA_DIR: tempDir() }).encryptionKey.equals(loadConfig({ DATA_DIR: tempDir() }).encryptionKey)).toBe(false);
  });

  it('when ENCRYPTION_KEY is set and a key file exists, then the variable wins', () => {
    const dir = tempDir();
    loadConfig({ DATA_DIR: dir });
    expect(loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: KEY_B64 }).encryptionKey).toEqual(KEY);
  });

  it('when the key file does not hold a 32-byte key, then loading fails instead of generating a new key', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'encryption.key'), Buffer.alloc(16, 1).toString('base64'));
    const warn = jest.fn();
    expect(() => loadConfig({ DATA_DIR: dir }, warn)).toThrow(ConfigError);
    expect(readFileSync(path.join(dir, 'encryption.key'), 'utf8')).toBe(Buffer.alloc(16, 1).toString('base64'));
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('loadConfig webhook public keys', () => {
  const keys = makeSigningKeys();

  it('when HIGHLEVEL_WEBHOOK_PUBLIC_KEY is a PEM on one line with literal \\n escapes, then it is accepted and unfolded', () => {
    const escaped = keys.ed25519PublicPem.trim().replace(/\n/g, '\\n');
    expect(escaped).not.toContain('\n');
    const config = loadConfig({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_PUBLIC_KEY: escaped });
    expect(config.highLevel.webhookPublicKey).toBe(keys.ed25519PublicPem.trim());
  });

  it('when the webhook keys are multi-line PEMs, then they are kept as given', () => {
    const config = loadConfig({
      ENCRYPTION_KEY: KEY_B64,
      HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem,
      HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: keys.rsaPublicPem,
    });
    expect(config.highLevel.webhookPublicKey).toBe(keys.ed25519PublicPem);
    expect(config.highLevel.webhookLegacyPublicKey).toBe(keys.rsaPublicPem);
  });

  it.each([
    ['plain text', 'not a key'],
    ['the bare base64 of a key', 'MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg='],
    ['a truncated PEM', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2Vw\n-----END PUBLIC KEY-----\n'],
  ])('when HIGHLEVEL_WEBHOOK_PUBLIC_KEY is %s, then the error names HIGHLEVEL_WEBHOOK_PUBLIC_KEY', (_what, value) => {
    const message = configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_PUBLIC_KEY: value }).message;
    expect(message).toContain('HIGHLEVEL_WEBHOOK_PUBLIC_KEY');
    expect(message).not.toContain('HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY');
  });

  it('when HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY is not a PEM, then the error names it', () => {
    expect(configError({ ENCRYPTION_KEY: KEY_B64, HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: 'nope' }).message).toContain(
      'HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY',
    );
  });
});
