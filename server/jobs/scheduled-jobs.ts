/**
 * The scheduled jobs of one process, declared as data for server/jobs/scheduler.ts (each runs under its own
 * PostgreSQL advisory lock, so across replicas one run of a job happens at a time). Patterns are node-cron with
 * seconds; timeouts are seconds.
 */
import type { DatabaseHandle } from '../../models/database';
import type { BackfillRunner } from '../backfill/backfill-runner';
import type { Config } from '../config';
import type { SecretBox } from '../crypto/secret-box';
import { reencryptSecrets } from '../crypto/reencrypt-secrets';
import type { InstallationTokens } from '../highlevel/installation-tokens';
import type { SaasModeCheck } from '../highlevel/saas-rebilling';
import type { InstalledLocationsSync } from '../highlevel/installed-locations-sync';
import type { PhoneNumberMonths } from '../phone-numbers/phone-number-months';
import type { SubAccountBilling } from '../billing-setup/sub-account-billing';
import type { Reconciliation } from '../reconciliation/reconciliation';
import type { Retention } from '../retention/retention';
import type { MeterReporter } from '../stripe/meter-reporter';
import type { Wallets } from '../wallets/wallets';
import type { Payments } from '../payments/payments';
import { PREVIEW_REFRESH_JOB } from '../payments/preview-refresh';
import { CARD_REFRESH_JOB } from '../payments/card-refresh';
import { ALERTS_DELIVERY_JOB, type Alerts } from '../alerts/alerts';
import { WEBHOOK_EVENTS_JOB, type WebhookEndpointSync } from '../billing-setup/webhook-endpoint-sync';
import type { JobDefinition } from './scheduler';

/**
 * How long after a commit with threshold crossings the reporter runs (milliseconds): long enough that the
 * deliveries of a second share one pass (one meter event per customer and meter, and a busy intake is not slowed
 * by a pass every few hundred milliseconds), short enough that lag stays near a second plus Stripe's answer.
 */
export const REPORTER_NUDGE_MS = 1_000;

/**
 * How long after a webhook (or a change) asked for a preview refresh the invoice-preview job runs (milliseconds):
 * the several invoice events of one renewal share one run.
 */
export const PREVIEW_NUDGE_MS = 1_000;
/**
 * How long after a webhook (or a change) asked for a card read the card job runs (milliseconds): the several events
 * of one card change (payment_method.attached, setup_intent.succeeded, customer.updated) share one run.
 */
export const CARD_NUDGE_MS = 1_000;
export { CARD_REFRESH_JOB, PREVIEW_REFRESH_JOB };

/**
 * The payments' asks for a run of their refresh jobs soon (server/payments/payments.ts `nudgePreviews`, `nudgeCards`),
 * given the scheduler's `nudge` (server/jobs/scheduler.ts; it never throws).
 */
export function paymentNudges(nudge: (name: string, delayMs: number) => void) {
  return { nudgePreviews: () => nudge(PREVIEW_REFRESH_JOB, PREVIEW_NUDGE_MS), nudgeCards: () => nudge(CARD_REFRESH_JOB, CARD_NUDGE_MS) };
}

/** What the jobs run. `oauthConfigured`: HighLevel client id and secret are set (tokens can be refreshed). */
export interface ScheduledJobDependencies {
  config: Config;
  database: DatabaseHandle;
  secretBox: SecretBox;
  reporter: MeterReporter;
  highLevelTokens: InstallationTokens;
  oauthConfigured: boolean;
  installedLocations: InstalledLocationsSync;
  billing: SubAccountBilling;
  backfillRunner: BackfillRunner;
  phoneNumbers: PhoneNumberMonths;
  saasModeCheck: SaasModeCheck;
  reconciliation: Reconciliation;
  retention: Retention;
  wallets: Wallets;
  alerts: Alerts;
  payments: Payments;
  webhookEndpoints: WebhookEndpointSync;
}

/**
 * meter-reporter (every REPORTER_INTERVAL_SECONDS, and nudged after crossings), highlevel-token-refresh (every
 * 10 min, tokens expiring within the hour), highlevel-install-sync (30 s), reencrypt-secrets (hourly, only during
 * a key rotation), apply-defaults (30 s), backfill (10 s), phone-numbers (hourly at :07; each number once per UTC
 * month, so the hour only decides how soon a new number is billed), highlevel-saas-mode (every 6 h at :37: which
 * sub-accounts HighLevel has in SaaS mode, for the pricing grid's double-rebilling warning), reconciliation
 * (RECONCILE_SCHEDULE, nightly by default), reconciliation-follow-up (every 15 min: re-checks an agency a while
 * after a run repaired drift) and retention (every 15 min at :05, :20, …: redacts private text older than
 * RETENTION_DAYS, in bounded batches; a run stops after 50,000 events and the next goes on) and wallet-auto-top-up
 * (every minute at :40: prepaid sub-accounts below their minimum balance are topped up; top-ups in flight resumed),
 * alerts-delivery (every 15 s, and nudged after an alert is raised: webhook and workflow trigger deliveries due),
 * alerts-checks (every minute at :25: usage and spend thresholds, rejected meter batches, reconciliation drift), alerts-cards (daily at 06:13 UTC: cards missing or expiring,
 * from the stored cards), invoice-previews (every 30 s, and nudged after a webhook: the stored next-invoice previews
 * that are due, server/payments/preview-refresh.ts) and card-summaries (every 30 s at :15 and :45, and nudged after a
 * webhook: the stored cards that are due, server/payments/card-refresh.ts; the two share Stripe's rate limit as
 * card-refresh.ts works out) and stripe-webhook-events (once at start and hourly at :23: agencies' webhook endpoints
 * whose event list is older than the current one are updated in Stripe, server/billing-setup/webhook-endpoint-sync.ts;
 * at start because a new version is what changes the list, hourly to retry what Stripe refused).
 */
export function scheduledJobs(deps: ScheduledJobDependencies): JobDefinition[] {
  const { config, database, secretBox, reporter, highLevelTokens, installedLocations, billing, backfillRunner, phoneNumbers, saasModeCheck, reconciliation, retention, wallets, alerts, payments, webhookEndpoints } = deps;
  return [
    {
      name: 'meter-reporter',
      pattern: `*/${config.reporter.intervalSeconds} * * * * *`,
      timeoutSeconds: 120,
      enabled: config.reporter.enabled,
      run: () => reporter.tick(),
    },
    {
      name: 'highlevel-token-refresh',
      pattern: '0 */10 * * * *',
      timeoutSeconds: 300,
      enabled: deps.oauthConfigured,
      run: () => highLevelTokens.refreshExpiring(3600),
    },
    {
      name: 'highlevel-install-sync',
      pattern: '*/30 * * * * *',
      timeoutSeconds: 300,
      enabled: true,
      run: () => installedLocations.syncRequested(),
    },
    {
      name: 'reencrypt-secrets',
      pattern: '0 17 * * * *',
      timeoutSeconds: 600,
      enabled: config.previousEncryptionKeys.length > 0,
      run: () => reencryptSecrets(database.db, secretBox),
    },
    {
      name: 'apply-defaults',
      pattern: '*/30 * * * * *',
      timeoutSeconds: 300,
      enabled: true,
      run: () => billing.applyPendingDefaults(),
    },
    {
      name: 'backfill',
      pattern: '*/10 * * * * *',
      timeoutSeconds: 300,
      enabled: true,
      run: () => backfillRunner.runDue(),
    },
    {
      name: 'phone-numbers',
      pattern: '0 7 * * * *',
      // One HighLevel request per sub-account (per 1,000 numbers), one after another: an hour covers thousands.
      timeoutSeconds: 3000,
      enabled: true,
      run: () => phoneNumbers.runOnce(),
    },
    {
      name: 'highlevel-saas-mode',
      pattern: '0 37 */6 * * *',
      timeoutSeconds: 3000,
      enabled: true,
      run: () => saasModeCheck.runOnce(),
    },
    {
      name: 'reconciliation',
      pattern: config.reconciliation.schedule,
      timeoutSeconds: 3600,
      enabled: config.reconciliation.enabled,
      run: () => reconciliation.runScheduled(),
    },
    {
      name: 'reconciliation-follow-up',
      pattern: '0 */15 * * * *',
      timeoutSeconds: 3600,
      enabled: config.reconciliation.enabled,
      run: () => reconciliation.runFollowUps(),
    },
    {
      name: 'retention',
      pattern: '0 5-59/15 * * * *',
      timeoutSeconds: 900,
      enabled: true,
      run: () => retention.runOnce(),
    },
    {
      name: 'wallet-auto-top-up',
      pattern: '40 * * * * *',
      timeoutSeconds: 300,
      enabled: true,
      run: () => wallets.autoTopUp(),
    },
    { name: ALERTS_DELIVERY_JOB, pattern: '*/15 * * * * *', timeoutSeconds: 600, enabled: true, run: () => alerts.delivery.deliverDue() },
    { name: 'alerts-checks', pattern: '25 * * * * *', timeoutSeconds: 300, enabled: true, run: async () => ({ usage: await alerts.checks.checkUsage(), operations: await alerts.checks.sweepOperations() }) },
    { name: 'alerts-cards', pattern: '0 13 6 * * *', timeoutSeconds: 3000, enabled: true, run: () => alerts.checks.checkCards() },
    // A run reads at most PREVIEW_REFRESH.perRun previews (a few minutes at the paced rate); the next goes on.
    { name: PREVIEW_REFRESH_JOB, pattern: '*/30 * * * * *', timeoutSeconds: 600, enabled: true, run: () => payments.previews.refreshDue() },
    // A run reads at most CARD_REFRESH.perRun cards (at most two calls each, at the paced rate); the next goes on.
    { name: CARD_REFRESH_JOB, pattern: '15,45 * * * * *', timeoutSeconds: 600, enabled: true, run: () => payments.cards.refreshDue() },
    { name: WEBHOOK_EVENTS_JOB, pattern: '0 23 * * * *', timeoutSeconds: 600, enabled: true, runAtStart: true, run: () => webhookEndpoints.runOnce() },
  ];
}
