/**
 * The shape of a wired service (server/main.ts `buildService` builds it): what the composition root hands to the
 * HTTP server, the CLI and tests.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../models/database';
import type { SessionTokens } from './access/session-token';
import type { BackfillRunner } from './backfill/backfill-runner';
import type { Backfills } from './backfill/backfills';
import type { Pricing } from './billing-setup/pricing';
import type { StripeConnection } from './billing-setup/stripe-connection';
import type { SubAccountBilling } from './billing-setup/sub-account-billing';
import type { Config } from './config';
import type { InstallFlow } from './highlevel/install';
import type { InstallationTokens } from './highlevel/installation-tokens';
import type { InstalledLocationsSync } from './highlevel/installed-locations-sync';
import type { Manifest } from './highlevel/manifest';
import type { SaasModeCheck } from './highlevel/saas-rebilling';
import type { ApiRoute } from './http/api-route';
import type { Scheduler } from './jobs/scheduler';
import type { CustomMetrics } from './metering/custom-metrics';
import type { RebillingRules } from './metering/rebilling-rules';
import type { Payments } from './payments/payments';
import type { WalletLowCrossing, Wallets } from './wallets/wallets';
import type { Alerts } from './alerts/alerts';
import type { PhoneNumberMonths } from './phone-numbers/phone-number-months';
import type { GroupCommit } from './pipeline/group-commit';
import type { InboxProcessor } from './pipeline/inbox-processor';
import type { Operations } from './observability/operations';
import type { Reconciliation } from './reconciliation/reconciliation';
import type { MeterReporter } from './stripe/meter-reporter';
import type { Accounts } from './tenancy/accounts';
import type { ApiKeys } from './usage-api/api-keys';

/**
 * A wired service. `close()` stops taking requests, the scheduler and the inbox processor (finishing the run in progress, so an
 * in-flight Stripe batch is settled), then closes the database; safe to call twice.
 */
export interface Service {
  config: Config;
  app: Express;
  database: DatabaseHandle;
  logger: Logger;
  /** Use cases other capabilities and tests call. */
  accounts: Accounts;
  rules: RebillingRules;
  reporter: MeterReporter;
  reconciliation: Reconciliation;
  /** Metrics (GET /metrics; `pipelineMetrics` for the pipeline's workers) and retention of private text. */
  operations: Operations;
  scheduler: Scheduler;
  manifest: Manifest;
  highLevelTokens: InstallationTokens;
  install: InstallFlow;
  installedLocations: InstalledLocationsSync;
  sessionTokens: SessionTokens;
  stripeConnection: StripeConnection;
  pricing: Pricing;
  billing: SubAccountBilling;
  /** Notifications, the outbound webhook and workflow triggers (server/alerts). */
  alerts: Alerts;
  /** Cards, hosted payment pages, invoices (server/payments/). */
  payments: Payments;
  /** Prepaid wallets: settings, balances, top-ups (server/wallets/). */
  wallets: Wallets;
  /** HighLevel read on a schedule: backfills (also the settings API), phone numbers by the month, SaaS mode. */
  backfills: Backfills;
  backfillRunner: BackfillRunner;
  phoneNumbers: PhoneNumberMonths;
  saasModeCheck: SaasModeCheck;
  /** Agency API keys and custom metrics (the usage API). */
  apiKeys: ApiKeys;
  customMetrics: CustomMetrics;
  /** The webhook inbox's writer (group commit); its stats show how deliveries were batched. */
  groupCommit: GroupCommit;
  /** The inbox processor: stored events → usage → counters → meter reports. `close()` stops it. */
  pipeline: InboxProcessor;
  /** Every JSON API route, as declared (the authorization matrix and OpenAPI read it). */
  apiRoutes: ApiRoute<any, any, any, any>[];
  /** Starts the background work: the scheduler's jobs and the inbox processor's loop. */
  start(): void;
  /** Starts listening; resolves with the bound server (port 0 picks a free port). */
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

export interface BuildOptions {
  config: Config;
  /** An open database; when omitted, the one the config names is opened (and closed by `close()`). */
  database?: DatabaseHandle;
  logger?: Logger;
  /** The built settings page to serve at /app; default ui/dist of this checkout. */
  uiDistDir?: string;
  /** Told of each "wallet low" crossing of a prepaid wallet (server/wallets/wallet-checks.ts): for alerts and workflow triggers. */
  onWalletLow?: (crossing: WalletLowCrossing) => void | Promise<void>;
}

