/**
 * The composition root: config → database → services → HTTP app (+ scheduler, as capabilities add jobs).
 * Tests build the same graph through `buildService`, handing in a test database and fakes only at the edges.
 */
import type { Server } from 'node:http';
import { Router } from 'express';
import { openDatabase } from '../models/database';
import { ConfigError, loadConfig, type Config } from './config';
import { healthRouter } from './health/routes';
import { createWebhookIntake } from './highlevel/webhook-intake';
import { isDeclaredEndpoint } from './highlevel/endpoints';
import { createGroupCommit } from './pipeline/group-commit';
import { createInboxProcessor } from './pipeline/inbox-processor';
import { createStoredUsage } from './pipeline/stored-usage';
import { highLevelWebhookRouter } from './highlevel/webhook-routes';
import { createWebhookVerifier } from './highlevel/webhook-signature';
import { createHttpApp } from './http/app';
import { createLogger } from './logger';
import { createSecretBox } from './crypto/secret-box';
import { perApiKeyLimit, perMinuteLimit } from './http/rate-limits';
import { createScheduler } from './jobs/scheduler';
import { paymentNudges, REPORTER_NUDGE_MS, scheduledJobs } from './jobs/scheduled-jobs';
import { createRebillingRules } from './metering/rebilling-rules';
import { createMeterReporter } from './stripe/meter-reporter';
import { createStripeClientFactory } from './stripe/stripe-client';
import { createEventDestinations } from './stripe/event-destinations';
import { wireStripeConnect } from './stripe/connect-wiring';
import { auditRoutes } from './audit/routes';
import { withAudit } from './audit/with-audit';
import { ambientDatabase } from './audit/ambient-transaction';
import { createAccounts } from './tenancy/accounts';
import { findAgencyName } from './tenancy/accounts-repository';
import { createHighLevelApiClient } from './highlevel/api-client';
import { createInstallFlow } from './highlevel/install';
import { createInstallationTokens } from './highlevel/installation-tokens';
import { createInstalledLocationsSync } from './highlevel/installed-locations-sync';
import { loadManifest } from './highlevel/manifest';
import { oauthRouter } from './highlevel/oauth-routes';
import { createHighLevelPassport } from './highlevel/oauth-strategy';
import { mountApiRoutes } from './http/api-route';
import { API_INFO, openApiDocument, openApiRouter } from './http/openapi';
import { createGatekeeper } from './access/gatekeeper';
import { accessRoutes } from './access/routes';
import { createSessionExchange } from './access/session';
import { createSessionTokens, deriveSessionKey } from './access/session-token';
import { createPricing } from './billing-setup/pricing';
import { billingSetupRoutes } from './billing-setup/routes';
import { createStripeConnection } from './billing-setup/stripe-connection';
import { createWebhookEndpointSync } from './billing-setup/webhook-endpoint-sync';
import { stripeForAgency, reporterStripe, stripeIfConnected } from './billing-setup/stripe-for-agency';
import { createSubAccountBilling } from './billing-setup/sub-account-billing';
import { createPaymentEvents } from './stripe/payment-events';
import { createErrorReports } from './stripe/error-reports';
import { stripeWebhookRouter } from './stripe/webhook-routes';
import { reportingRoutes } from './reporting/routes';
import { shadowRoutes } from './shadow/routes';
import { ensureUiBuilt, uiPaths } from './ui/build-ui';
import { createBackfills } from './backfill/backfills';
import { createBackfillRunner } from './backfill/backfill-runner';
import { backfillRoutes } from './backfill/routes';
import { createCustomMetrics } from './metering/custom-metrics';
import { apiKeyCaller } from './usage-api/api-key-gate';
import { createApiKeys } from './usage-api/api-keys';
import { createUsageIngestion } from './usage-api/ingest-usage';
import { USAGE_API_PATH, usageApiRoutes } from './usage-api/routes';
import { usageApiSettingsRoutes } from './usage-api/settings-routes';
import { UI_PREFIX, uiRouter } from './ui/ui-router';
import { createAgencyAiSenders } from './ai/agency-ai-senders';
import { aiSendersRoutes } from './ai/routes';
import { createPhoneNumberMonths } from './phone-numbers/phone-number-months';
import { createSaasModeCheck } from './highlevel/saas-rebilling';
import { workflowActionRouter } from './workflow-actions/workflow-action-routes';
import { createAgencyEmailBilling } from './email-billing/agency-email-billing';
import { emailBillingRoutes } from './email-billing/routes';
import { createCatalogue } from './catalog/catalog';
import { createReconciliation } from './reconciliation/reconciliation';
import { reconciliationRoutes } from './reconciliation/routes';
import { createOperations } from './observability/operations';
import { holdUncoveredUsage } from './payments/held-usage';
import { createPayments } from './payments/payments';
import { paymentsReturnRouter } from './payments/return-page';
import { paymentRoutes } from './payments/routes';
import { wireMoney } from './money/wiring';
import { walletRoutes } from './wallets/routes';
import { createWallets } from './wallets/wallets';
import { createSuspension, suspensionRoutes } from './suspension/routes';
import { ALERTS_DELIVERY_JOB, createAlerts } from './alerts/alerts';
import type { BuildOptions, Service } from './service';

export type { BuildOptions, Service };

/**
 * Wires every capability.
 * @throws the database driver's error when the database cannot be opened or migrated.
 */
export async function buildService(options: BuildOptions): Promise<Service> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const opened = options.database ?? (await openDatabase(config.database));
  const database = { ...opened, db: ambientDatabase(opened.db) }; // an audited change's writes share its transaction
  const ownsDatabase = !options.database;
  const operations = createOperations({ config, database, logger });

  const verifier = createWebhookVerifier({ ed25519Pem: config.highLevel.webhookPublicKey, rsaPem: config.highLevel.webhookLegacyPublicKey });
  const manifest = loadManifest();
  const secretBox = createSecretBox(config.encryptionKey, config.previousEncryptionKeys);
  const accounts = createAccounts({ db: database.db, secretBox });
  const rules = createRebillingRules({ db: database.db });
  // Crossings nudge the reporter (declared below), so units reach Stripe ~1 s after the commit, not a tick later.
  const nudgeReporter = () => scheduler.nudge('meter-reporter', REPORTER_NUDGE_MS);
  const aiSenders = createAgencyAiSenders({ db: database.db, deployment: config.aiSenders });
  const emailBilling = createAgencyEmailBilling({ db: database.db });
  const groupCommit = createGroupCommit(database.db, { maxInFlight: config.intakeWritesInFlight });
  const pipeline = createInboxProcessor({ db: database.db, storedUsage: createStoredUsage({ aiSendersFrom: aiSenders.fromMarkers }), logger,
    onCrossings: nudgeReporter, onCounted: (locationIds) => wallets.nudge(locationIds), onBatch: (batch) => {
      operations.pipelineMetrics.processed(batch.processed, batch.lagsMs.map((ms) => ms / 1000));
      operations.pipelineMetrics.failed(batch.failed);
    } });

  const stripeClient = createStripeClientFactory({ apiUrl: config.stripeApiUrl, timeoutMs: config.stripeTimeoutSeconds * 1000 });
  const eventDestinations = createEventDestinations({ db: database.db, secretBox, stripeClient, appUrl: config.appUrl, logger });
  const stripeConnect = wireStripeConnect({ config, db: database.db, secretBox, stripeClient, eventDestinations, logger }); // key | Connect
  const reporter = createMeterReporter({
    db: database.db,
    logger,
    onStripeCall: operations.pipelineMetrics.stripeCall,
    onMeterEventsSent: operations.pipelineMetrics.meterEventsSent,
    beforeTick: () => eventDestinations.ensureAll(stripeConnect.connections), // connections older than event destinations, or failed creations
    stripeForAgency: reporterStripe(stripeConnect.connections),
    holdUncovered: () => holdUncoveredUsage(database.db), // never send units no subscription invoices
    options: { ...config.reporter, concurrency: 16 },
  });
  const reconciliation = createReconciliation({
    db: database.db, logger, stripeForAgency: stripeIfConnected(stripeConnect.connections), onRepairs: nudgeReporter, options: config.reconciliation });
  const { clientId, clientSecret } = config.highLevel;
  const oauthClient = clientId && clientSecret ? { apiUrl: config.highLevel.apiUrl, clientId, clientSecret } : null;
  const highLevelTokens = createInstallationTokens({ database, secretBox, endpoint: oauthClient, logger });
  const highLevelApi = createHighLevelApiClient({ baseUrl: config.highLevel.apiUrl, tokens: highLevelTokens, allowedEndpoint: isDeclaredEndpoint });
  const receiveDelivery = createWebhookIntake({ db: database.db, groupCommit, verifier, onStored: pipeline.nudge,
    onLocationInstalled: highLevelTokens.mintOnInstall });
  const backfills = createBackfills({ db: database.db });
  const backfillRunner = createBackfillRunner({ db: database.db, api: highLevelApi, logger });
  const phoneNumbers = createPhoneNumberMonths({ db: database.db, api: highLevelApi, logger, onStored: pipeline.nudge });
  const saasModeCheck = createSaasModeCheck({ db: database.db, api: highLevelApi, logger });
  const installedLocations = createInstalledLocationsSync({ db: database.db, api: highLevelApi, appId: config.highLevel.appId, logger });
  const install = createInstallFlow({ db: database.db, secretBox, syncInstalledLocations: installedLocations.syncNow, logger });
  const passport = oauthClient
    ? createHighLevelPassport({
        ...oauthClient,
        marketplaceUrl: config.highLevel.marketplaceUrl,
        callbackUrl: `${config.appUrl}${manifest.oauth.redirectPath}`,
        scopes: manifest.scopes,
      })
    : null;
  const agencyStripe = stripeForAgency(stripeConnect.connections);
  const alerts = createAlerts({ db: database.db, secretBox, accessToken: (o) => highLevelTokens.accessToken(o), stripeIfConnected: stripeIfConnected(stripeConnect.connections), logger, highLevel: config.highLevel, nudge: () => scheduler.nudge(ALERTS_DELIVERY_JOB, 200) });
  const sessionTokens = createSessionTokens({ key: deriveSessionKey(config.encryptionKey) });
  const stripeConnection = createStripeConnection({ db: database.db, secretBox, stripeClient, appUrl: config.appUrl, logger, eventDestinations, connect: stripeConnect.connect });
  const payments = createPayments({ db: database.db, stripeForAgency: agencyStripe, appUrl: config.appUrl, logger,
    startSubscription: (locationId) => billing.syncSubscription(locationId), ...paymentNudges((name, delayMs) => scheduler.nudge(name, delayMs)) });
  const billing = createSubAccountBilling({ db: database.db, rules, accounts, stripeForAgency: agencyStripe, logger,
    requireCard: payments.requireCard, onSubscriptionChanged: payments.customerChanged });
  const pricing = createPricing({ db: database.db, rules, stripeForAgency: agencyStripe, resyncSubscriptions: billing.resyncSubscriptions });
  const catalogue = createCatalogue({ db: database.db, stripeForAgency: agencyStripe, billing, onCustomerChanged: payments.customerChanged });
  const wallets = createWallets({ db: database.db, stripeForAgency: agencyStripe, logger, locks: database, appUrl: config.appUrl,
    onWalletLow: async (c) => { await options.onWalletLow?.(c); await alerts.onWalletLow({ ...c, checkId: c.at.toISOString() }); } }); // once per crossing
  const suspension = createSuspension({ db: database.db, api: highLevelApi, logger, onResumed: nudgeReporter }); // non-payment policy
  const paymentEvents = createPaymentEvents({ db: database.db, secretBox, stripeForAgency: agencyStripe, logger,
    onEvent: async (companyId, event, stripe) => (await payments.handleEvent(companyId, event, stripe)) ?? wallets.onEvent(companyId, event, stripe),
    onPaymentState: suspension.onInvoiceState, onCanceledUnpaid: suspension.onSubscriptionCanceledUnpaid,
    onPaymentStatus: alerts.onPaymentStatus, onPaymentStatusCommitted: alerts.nudge,
    onInvoiceEvent: async (companyId, stripe, invoiceId) => (await catalogue.onInvoiceEvent(companyId, stripe, invoiceId)) || wallets.onInvoiceEvent(companyId, stripe, invoiceId) });
  const apiKeys = createApiKeys({ db: database.db });
  const customMetrics = createCustomMetrics({ db: database.db });
  const ingestion = createUsageIngestion({ db: database.db, onStored: pipeline.nudge });
  const money = wireMoney({ db: database.db, payments, stripeForAgency: agencyStripe });
  const session = createSessionExchange({ db: database.db, sharedSecret: config.highLevel.sharedSecret, tokens: sessionTokens });
  const apiRoutes = withAudit(opened.db, [
    ...accessRoutes({ session, demo: config.demo }),
    ...billingSetupRoutes({ db: database.db, stripeConnection, pricing, rules, billing, logger, filterIds: money.filterIds }),
    ...stripeConnect.apiRoutes,
    ...auditRoutes({ db: database.db }),
    ...reportingRoutes({ db: database.db }),
    ...paymentRoutes({ payments }),
    ...money.routes,
    ...walletRoutes({ wallets }),
    ...suspensionRoutes({ suspension }),
    ...alerts.routes,
    ...reconciliationRoutes({ db: database.db, reconciliation }),
    ...backfillRoutes({ backfills }),
    ...shadowRoutes({ db: database.db }),
    ...aiSendersRoutes({ aiSenders }),
    ...emailBillingRoutes({ emailBilling }),
    ...catalogue.routes,
    ...usageApiSettingsRoutes({ apiKeys, customMetrics }),
    ...usageApiRoutes({ ingestion }),
  ]);
  const openApi = openApiDocument(apiRoutes, API_INFO);

  const jobs = { config, database, secretBox, reporter, highLevelTokens, installedLocations, billing, backfillRunner, phoneNumbers, saasModeCheck, reconciliation, retention: operations.retention, wallets, alerts, payments,
    webhookEndpoints: createWebhookEndpointSync({ db: database.db, secretBox, stripeClient, appUrl: config.appUrl, logger }) };
  const scheduler = createScheduler(scheduledJobs({ ...jobs, oauthConfigured: oauthClient !== null }), database, logger);
  const app = createHttpApp(logger, [
    Router()
      .use('/api/session', perMinuteLimit(config.rateLimits.sessionPerMinute, 'sign-in'))
      .use('/oauth', perMinuteLimit(config.rateLimits.oauthPerMinute, 'install'))
      .use(USAGE_API_PATH, perApiKeyLimit(config.rateLimits.usageApiPerMinute)),
    healthRouter(database),
    operations.router,
    highLevelWebhookRouter(manifest.webhooks.path, receiveDelivery),
    oauthRouter({ manifest, passport, install, appUrl: config.appUrl, agencyName: (id) => findAgencyName(database.db, id), logger }),
    stripeWebhookRouter(paymentEvents, createErrorReports({ db: database.db, secretBox, stripeForAgency: agencyStripe, logger })),
    ...stripeConnect.routers(paymentEvents),
    paymentsReturnRouter(),
    alerts.router(),
    workflowActionRouter({ db: database.db, ingestion, secret: config.highLevel.workflowActionSecret }),
    openApiRouter(openApi),
    mountApiRoutes(apiRoutes, createGatekeeper({ db: database.db, tokens: sessionTokens, apiKeys: apiKeyCaller(apiKeys) })),
    uiRouter({ distDir: options.uiDistDir ?? uiPaths().distDir, nodeEnv: config.nodeEnv, extraFrameAncestors: config.frameAncestors }),
  ], { ownHeaders: [UI_PREFIX] });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    config, app, database, logger, accounts, rules, reporter, reconciliation, operations, scheduler, manifest,
    highLevelTokens, install, installedLocations, sessionTokens, stripeConnection, pricing, billing, alerts, payments,
    wallets, backfills, backfillRunner, phoneNumbers, saasModeCheck, apiKeys, customMetrics, apiRoutes, groupCommit,
    pipeline,
    start: () => {
      scheduler.start();
      pipeline.start();
    },
    listen: (port = config.port) =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(s)));
        server = s;
      }),
    close: () =>
      (closing ??= (async () => {
        const httpClosed = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        await Promise.all([httpClosed, scheduler.stop(), pipeline.stop()]).then(() => wallets.idle());
        if (ownsDatabase) await database.close();
      })()),
  };
}

/** Runs the service from the environment until SIGTERM/SIGINT, then shuts down gracefully. */
async function main(): Promise<void> {
  let config: Config;
  const early: string[] = [];
  try {
    config = loadConfig(process.env, (message) => early.push(message));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  for (const message of early) logger.warn(message);
  // A fresh clone has no ui/dist: build the settings page first (a few seconds); in development also when ui/ changed
  // since. Elsewhere a build that exists is served as it is. Without one the API still runs (/app answers 503).
  await ensureUiBuilt({ logger, onlyIfMissing: config.nodeEnv !== 'development' }).catch((err) =>
    logger.error({ err }, 'the settings page could not be built; /app answers 503 until `npm run build` succeeds'),
  );
  const service = await buildService({ config, logger });
  const server = await service.listen();
  service.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, database: service.database.driver }, `Meterbridge listening on http://localhost:${port}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
