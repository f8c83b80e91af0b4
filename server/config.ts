/**
 * The service's configuration: one zod schema over the environment, parsed once at boot.
 * A missing or bad value throws `ConfigError` naming the variable; `server/main.ts` prints it and exits.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { parseAiSenders, type AiSenders } from './metering/ai-messages';
import { aiSendersOrIssue, emptyAsUnset, FRAME_ANCESTOR, metricsToken, publicKeyPem, retentionDays, STRIPE_CONNECT_ENV, stripeConnectConfig, url, type StripeConnectConfig } from './config-fields';
import { HIGHLEVEL_ED25519_PUBLIC_KEY, HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY } from './highlevel/published-keys';

/** Thrown when the environment does not describe a runnable service; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DEMO: z.enum(['true', 'false']).default('false'),
  PORT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(65535).default(3000)),
  APP_URL: z.preprocess(emptyAsUnset, url.optional()),
  DATABASE_URL: z.preprocess(emptyAsUnset, z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  ENCRYPTION_KEY: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .refine((value) => /^[A-Za-z0-9+/]{43}=$/.test(value.trim()), { message: 'must be 32 bytes, base64-encoded' })
      .optional(),
  ),
  HIGHLEVEL_CLIENT_ID: z.preprocess(emptyAsUnset, z.string().optional()),
  HIGHLEVEL_CLIENT_SECRET: z.preprocess(emptyAsUnset, z.string().optional()),
  HIGHLEVEL_SHARED_SECRET: z.preprocess(emptyAsUnset, z.string().optional()),
  HIGHLEVEL_WORKFLOW_ACTION_SECRET: z.preprocess(
    emptyAsUnset,
    z.string().regex(/^[\x21-\x7e]{32,200}$/, 'must be 32 to 200 visible ASCII characters (e.g. `openssl rand -hex 32`)').optional(),
  ),
  HIGHLEVEL_APP_ID: z.preprocess(emptyAsUnset, z.string().regex(/^[A-Za-z0-9]+$/, 'must be the marketplace app id').optional()),
  HIGHLEVEL_WEBHOOK_PUBLIC_KEY: z.preprocess(emptyAsUnset, publicKeyPem('ed25519').default(HIGHLEVEL_ED25519_PUBLIC_KEY)),
  HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: z.preprocess(emptyAsUnset, publicKeyPem('rsa').default(HIGHLEVEL_RSA_LEGACY_PUBLIC_KEY)),
  HIGHLEVEL_API_URL: z.preprocess(emptyAsUnset, url.default('https://services.leadconnectorhq.com')),
  HIGHLEVEL_MARKETPLACE_URL: z.preprocess(emptyAsUnset, url.default('https://marketplace.gohighlevel.com')),
  STRIPE_API_URL: z.preprocess(emptyAsUnset, url.optional()),
  ...STRIPE_CONNECT_ENV,
  REPORTER_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(59).default(5),
  REPORTER_RETRY_BASE_SECONDS: z.coerce.number().min(0).max(3600).default(2),
  REPORTER_RETRY_MAX_SECONDS: z.coerce.number().min(0).max(86_400).default(900),
  REPORTER_ENABLED: z.enum(['true', 'false']).default('true'),
  REPORTER_LEASE_SECONDS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(2).max(3600).optional()),
  // Under Stripe's "rolling period of at least 24 hours" for meter-event identifiers.
  REPORTER_IDENTIFIER_WINDOW_HOURS: z.coerce.number().min(1).max(23).default(20),
  RECONCILE_ENABLED: z.enum(['true', 'false']).default('true'),
  RECONCILE_SCHEDULE: z.string().refine((p) => cron.validate(p), { message: 'is not a cron pattern (node-cron, with seconds)' }).default('0 30 3 * * *'),
  RECONCILE_SETTLE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(7200),
  RECONCILE_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(33).default(30),
  STRIPE_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(120).default(20),
  INTAKE_WRITES_IN_FLIGHT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(64).optional()),
  STRIPE_CALLS_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(100),
  ENCRYPTION_KEY_PREVIOUS: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .refine((v) => v.split(',').every((k) => /^[A-Za-z0-9+/]{43}=$/.test(k.trim())), { message: 'must be comma-separated 32-byte base64 keys' })
      .optional(),
  ),
  RATE_LIMIT_SESSION_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  RATE_LIMIT_OAUTH_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  AI_MESSAGE_SENDERS: z.preprocess(emptyAsUnset, z.string().max(100_000).transform(aiSendersOrIssue).optional()),
  RATE_LIMIT_USAGE_API_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  RETENTION_DAYS: retentionDays,
  METRICS_TOKEN: metricsToken,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FRAME_ANCESTORS: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .refine((v) => v.split(',').every((s) => FRAME_ANCESTOR.test(s.trim())), {
        message: 'must be comma-separated origins such as https://crm.example.com or https://*.example.com',
      })
      .optional(),
  ),
});

/** The parsed configuration. Times are in seconds unless a name says otherwise. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  /**
   * `DEMO=true`, set by `npm run demo` only: HighLevel and Stripe are simulated, and the page shows a demo banner.
   * Never with NODE_ENV=production.
   */
  demo: boolean;
  port: number;
  /** Public base URL (no trailing slash); defaults to http://localhost:PORT. */
  appUrl: string;
  /** A PostgreSQL server, or the embedded PGlite data directory. */
  database: { url: string } | { dataDir: string };
  dataDir: string;
  /** 32-byte AES-256-GCM key for secrets at rest. */
  encryptionKey: Buffer;
  /** Keys that sealed older values, still accepted for reading during a rotation (ENCRYPTION_KEY_PREVIOUS). */
  previousEncryptionKeys: Buffer[];
  /** Requests per minute per IP on /api/session and /oauth/*; per API key on POST /api/v1/usage. */
  rateLimits: { sessionPerMinute: number; oauthPerMinute: number; usageApiPerMinute: number };
  highLevel: {
    clientId?: string;
    clientSecret?: string;
    /** The marketplace app id (HIGHLEVEL_APP_ID, else the client id's part before "-"). */
    appId?: string;
    sharedSecret?: string;
    /**
     * The secret HighLevel sends as `Authorization: Bearer …` on the "Record billable usage" workflow action (set in
     * the action's Headers in the developer portal); unset: the action endpoint refuses every call.
     */
    workflowActionSecret?: string;
    webhookPublicKey: string;
    webhookLegacyPublicKey: string;
    apiUrl: string;
    marketplaceUrl: string;
  };
  /** Maps to stripe-node's host/port/protocol; unset means api.stripe.com. */
  stripeApiUrl?: string;
  /** Per-request Stripe timeout, seconds. */
  stripeTimeoutSeconds: number;
  /** The Stripe Connect platform ("Connect with Stripe"), or null when STRIPE_CONNECT_* are unset. */
  stripeConnect: StripeConnectConfig | null;
  /** The meter reporter: tick interval and retry backoff in seconds; per-agency Stripe calls per second. */
  reporter: {
    enabled: boolean;
    intervalSeconds: number;
    retryBaseSeconds: number;
    retryMaxSeconds: number;
    callsPerSecondPerAgency: number;
    /**
     * How long a reporter owns the batches it claimed, seconds (`REPORTER_LEASE_SECONDS`; default
     * 3 × the Stripe timeout + 30). A reporter that dies loses them after this long and another resends them with
     * the same identifiers. Always longer than the Stripe timeout.
     */
    leaseSeconds: number;
    /**
     * How long after its first send a batch may still be resent with its identifier, seconds
     * (`REPORTER_IDENTIFIER_WINDOW_HOURS`, default 20 h): a margin under the 24 hours in which Stripe guarantees to
     * deduplicate identifiers (docs.stripe.com/api/billing/meter-event/create). Past it, an unsettled batch becomes
     * `unconfirmed` instead of being resent. Always longer than the lease.
     */
    identifierWindowSeconds: number;
  };
  /**
   * Reconciliation against Stripe's totals (server/reconciliation/): the scheduled run's cron pattern (node-cron with
   * seconds, in the server's time zone; default nightly at 03:30), the settle time in seconds (windows and sends younger than this are not
   * compared, as Stripe aggregates meter events asynchronously) and the whole UTC days compared before today.
   */
  reconciliation: { enabled: boolean; schedule: string; settleSeconds: number; lookbackDays: number };
  /**
   * Group commit of webhook deliveries (server/pipeline/group-commit.ts): most intake transactions running at once
   * (`INTAKE_WRITES_IN_FLIGHT`); deliveries arriving meanwhile are committed together in the next. Unset: 4 on a
   * PostgreSQL server (the pool holds 10), 1 on PGlite (which runs one statement at a time, so one call in flight
   * lets every other delivery join the next batch).
   */
  intakeWritesInFlight: number;
  logLevel: string;
  /** Days private text is kept in stored events before it is redacted (RETENTION_DAYS, server/retention/). */
  retentionDays: number;
  /** Bearer token `GET /metrics` asks for (METRICS_TOKEN); unset: /metrics is open. */
  metricsToken?: string;
  /** Extra origins allowed to frame the settings page (white-label domains), besides HighLevel's own. */
  frameAncestors: string[];
  /** Whose outbound messages count as AI-written (AI_MESSAGE_SENDERS, server/metering/ai-messages.ts). */
  aiSenders: AiSenders;
}

/** A warning the caller should log (the config is parsed before the logger exists). */
export type ConfigWarn = (message: string) => void;

/**
 * Parses the environment.
 * @param env usually `process.env`.
 * @param warn receives non-fatal notices, such as a generated encryption key.
 * @throws ConfigError naming the first bad variable(s).
 */
export function loadConfig(env: NodeJS.ProcessEnv, warn: ConfigWarn = () => undefined): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const leaseSeconds = e.REPORTER_LEASE_SECONDS ?? Math.ceil(e.STRIPE_TIMEOUT_SECONDS) * 3 + 30;
  if (leaseSeconds <= e.STRIPE_TIMEOUT_SECONDS) {
    throw new ConfigError(`Invalid configuration: REPORTER_LEASE_SECONDS must be longer than STRIPE_TIMEOUT_SECONDS (${e.STRIPE_TIMEOUT_SECONDS})`);
  }
  if (e.DEMO === 'true' && e.NODE_ENV === 'production') {
    throw new ConfigError('Invalid configuration: DEMO=true (simulated HighLevel and Stripe) cannot run with NODE_ENV=production');
  }
  if (e.REPORTER_IDENTIFIER_WINDOW_HOURS * 3600 <= leaseSeconds) {
    throw new ConfigError('Invalid configuration: REPORTER_IDENTIFIER_WINDOW_HOURS must be longer than the reporter lease (REPORTER_LEASE_SECONDS)');
  }
  const database = e.DATABASE_URL ? { url: e.DATABASE_URL } : { dataDir: e.DATA_DIR };
  const stripeConnect = stripeConnectConfig(e, e.APP_URL ?? `http://localhost:${e.PORT}`);
  if (typeof stripeConnect === 'string') throw new ConfigError(`Invalid configuration: ${stripeConnect}`);
  return {
    nodeEnv: e.NODE_ENV,
    demo: e.DEMO === 'true',
    port: e.PORT,
    appUrl: e.APP_URL ?? `http://localhost:${e.PORT}`,
    database,
    dataDir: e.DATA_DIR,
    encryptionKey: resolveEncryptionKey(e.ENCRYPTION_KEY, e.NODE_ENV, database, e.DATA_DIR, warn),
    previousEncryptionKeys: (e.ENCRYPTION_KEY_PREVIOUS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .map((k) => Buffer.from(k, 'base64')),
    rateLimits: {
      sessionPerMinute: e.RATE_LIMIT_SESSION_PER_MINUTE,
      oauthPerMinute: e.RATE_LIMIT_OAUTH_PER_MINUTE,
      usageApiPerMinute: e.RATE_LIMIT_USAGE_API_PER_MINUTE,
    },
    highLevel: {
      clientId: e.HIGHLEVEL_CLIENT_ID,
      clientSecret: e.HIGHLEVEL_CLIENT_SECRET,
      appId: e.HIGHLEVEL_APP_ID ?? e.HIGHLEVEL_CLIENT_ID?.split('-')[0],
      sharedSecret: e.HIGHLEVEL_SHARED_SECRET,
      workflowActionSecret: e.HIGHLEVEL_WORKFLOW_ACTION_SECRET,
      webhookPublicKey: e.HIGHLEVEL_WEBHOOK_PUBLIC_KEY,
      webhookLegacyPublicKey: e.HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY,
      apiUrl: e.HIGHLEVEL_API_URL,
      marketplaceUrl: e.HIGHLEVEL_MARKETPLACE_URL,
    },
    stripeApiUrl: e.STRIPE_API_URL,
    stripeTimeoutSeconds: e.STRIPE_TIMEOUT_SECONDS,
    stripeConnect,
    intakeWritesInFlight: e.INTAKE_WRITES_IN_FLIGHT ?? ('url' in database ? 4 : 1),
    reporter: {
      enabled: e.REPORTER_ENABLED === 'true',
      intervalSeconds: e.REPORTER_INTERVAL_SECONDS,
      retryBaseSeconds: e.REPORTER_RETRY_BASE_SECONDS,
      retryMaxSeconds: e.REPORTER_RETRY_MAX_SECONDS,
      callsPerSecondPerAgency: e.STRIPE_CALLS_PER_SECOND,
      leaseSeconds,
      identifierWindowSeconds: Math.round(e.REPORTER_IDENTIFIER_WINDOW_HOURS * 3600),
    },
    reconciliation: {
      enabled: e.RECONCILE_ENABLED === 'true',
      schedule: e.RECONCILE_SCHEDULE,
      settleSeconds: e.RECONCILE_SETTLE_SECONDS,
      lookbackDays: e.RECONCILE_LOOKBACK_DAYS,
    },
    logLevel: e.LOG_LEVEL,
    retentionDays: e.RETENTION_DAYS,
    metricsToken: e.METRICS_TOKEN,
    frameAncestors: (e.FRAME_ANCESTORS ?? '')
      .split(',')
      .map((s) => s.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    aiSenders: e.AI_MESSAGE_SENDERS ?? parseAiSenders(undefined),
  };
}

/**
 * The key from the environment; in production it is required. Otherwise, with no key set, one is generated
 * once into `DATA_DIR/encryption.key` (mode 0600) and reused, so an embedded install keeps reading its secrets.
 */
function resolveEncryptionKey(
  value: string | undefined,
  nodeEnv: Config['nodeEnv'],
  database: Config['database'],
  dataDir: string,
  warn: ConfigWarn,
): Buffer {
  if (value) return Buffer.from(value.trim(), 'base64');
  if (nodeEnv === 'production') throw new ConfigError('Invalid configuration: ENCRYPTION_KEY is required when NODE_ENV=production');
  if ('url' in database) throw new ConfigError('Invalid configuration: ENCRYPTION_KEY is required with DATABASE_URL');
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`Invalid configuration: ${file} does not hold a 32-byte base64 key`);
    return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  warn(`ENCRYPTION_KEY is not set: generated one into ${file}. Back it up; secrets stored with it cannot be read without it.`);
  return key;
}
