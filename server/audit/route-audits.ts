/**
 * Which audit entry each write route of the settings API writes (issue 19, item 3), keyed `METHOD path` as in the
 * route table. `withAudit` (server/audit/with-audit.ts) wraps those routes' handlers. Routes whose use case records
 * its own entry in its own transaction are in AUDITED_IN_USE_CASE; writes that change no billing configuration are
 * in NOT_CONFIGURATION with the reason. test/integration/audit-route-table.test.ts calls every write route of the table
 * once and checks it wrote exactly the entry listed here (none for NOT_CONFIGURATION): a new write route fails it
 * until it is listed here and given a valid body there.
 * By default a route's entry commits in one transaction with every write of its use case (server/audit/audited.ts);
 * a use case that must keep its row after a failed Stripe call (money moved: charges, top-ups) takes `step` and calls
 * `recordAuditStep(tx, …)` in the transaction of that row.
 */
import type { Executor } from '../../models/database';
import type { Caller } from '../http/api-route';
import { describeAlertSettings } from '../alerts/settings';
import { pick, type Description } from './audited';
import { describeDefaultRule, describeDefaults, describeSubAccountBilling } from './describe';
import { findPolicy } from '../suspension/suspension-repository';

/** What a wrapped handler was called with. */
export interface RouteInput {
  params: Record<string, any>;
  body: any;
  caller: Caller | null;
}

/** The audit entry of one write route. */
export interface RouteAudit {
  action: string;
  subject: string;
  /** The subject before and after, from the database. */
  describe?: (input: RouteInput, db: Executor) => Promise<Description>;
  /** The subject before and after, from a read route of the table (`GET path`, same params), these fields only. */
  describeVia?: { path: string; fields: readonly string[] };
  /** Otherwise the after, from the request and the answer (fixed field lists). */
  summarize?: (result: any, input: RouteInput) => Description;
  /**
   * Instead: the use case commits its own steps around Stripe calls and records the entry in the transaction of the
   * write that makes the change (`recordAuditStep`, server/audit/audited.ts); these fields of what it describes.
   */
  step?: readonly string[];
}

const subAccount = (action: string): RouteAudit => ({ action, subject: 'sub_account_billing', describe: (i, db) => describeSubAccountBilling(db, i.params.locationId) });
const COUPON = ['id', 'name', 'percentOff', 'amountOff', 'currency', 'duration', 'durationInMonths', 'maxRedemptions', 'redeemBy', 'valid'];
const PRODUCT = ['id', 'name', 'description', 'amount', 'currency', 'stripeProductId', 'stripePriceId', 'archived'];
const CHARGE = ['id', 'locationId', 'productId', 'productName', 'amount', 'currency', 'mode', 'status', 'stripeInvoiceId'];
const PLAN = ['id', 'name', 'currency', 'interval', 'baseFeeAmount', 'stripeBasePriceId', 'isDefault', 'archived', 'trialDays', 'metrics'];
const BACKFILL = ['id', 'locationId', 'channels', 'startAt', 'endAt', 'bill', 'status'];
const METRIC = ['key', 'label', 'unit', 'archivedAt'];
const WALLET = ['billingMode', 'currency', 'initialTopUpCents', 'thresholdCents', 'topUpCents', 'maxBalanceCents', 'monthlyCapCents', 'source'];
const TOP_UP = ['id', 'locationId', 'trigger', 'amountCents', 'currency', 'status', 'stripeInvoiceId'];
const RUN = ['id', 'locationId', 'trigger'];

/** The audited write routes. */
export const ROUTE_AUDITS: Record<string, RouteAudit> = {
  'PUT /api/pricing/:metric': { action: 'pricing.rule_set', subject: 'pricing_rule', describe: (i, db) => describeDefaultRule(db, i.caller!.companyId, i.params.metric) },
  'PUT /api/pricing/:metric/directions/:direction': {
    action: 'pricing.directional_rule_set', subject: 'pricing_rule', describe: (i, db) => describeDefaultRule(db, i.caller!.companyId, i.params.metric),
  },
  'PUT /api/defaults': { action: 'defaults.set', subject: 'defaults', describe: (i, db) => describeDefaults(db, i.caller!.companyId) },
  'POST /api/defaults/apply': {
    action: 'defaults.applied', subject: 'sub_account_billing',
    summarize: (r) => ({ results: (r?.results ?? []).map((x: unknown) => pick(x, ['locationId', 'ok', 'stripeCustomerId'])) }),
  },
  'PUT /api/sub-accounts/:locationId/customer': subAccount('sub_account.customer_mapped'),
  'PUT /api/sub-accounts/:locationId/billing': subAccount('sub_account.billing_set'),
  'PUT /api/sub-accounts/:locationId/nickname': subAccount('sub_account.nickname_set'),
  'DELETE /api/sub-accounts/:locationId/rules/:metric': subAccount('sub_account.override_removed'),
  'PUT /api/sub-accounts/:locationId/billing-mode': subAccount('sub_account.billing_mode_set'),
  'POST /api/sub-accounts/:locationId/would-bill/bill': {
    action: 'shadow.backlog_billed', subject: 'sub_account_billing', summarize: (r) => pick(r, ['locationId', 'stripeCustomerId', 'reports']),
  },
  'POST /api/catalog/coupons': { action: 'coupon.created', subject: 'coupon', summarize: (r) => pick(r, COUPON) },
  'DELETE /api/catalog/coupons/:couponId': { action: 'coupon.archived', subject: 'coupon', summarize: (_r, i) => ({ id: i.params.couponId, archived: true }) },
  'PUT /api/sub-accounts/:locationId/discount': { action: 'discount.applied', subject: 'discount', describeVia: { path: '/api/sub-accounts/:locationId/discount', fields: ['subscriptionId', 'discount'] } },
  'DELETE /api/sub-accounts/:locationId/discount': { action: 'discount.removed', subject: 'discount', describeVia: { path: '/api/sub-accounts/:locationId/discount', fields: ['subscriptionId', 'discount'] } },
  'POST /api/catalog/one-time-products': { action: 'one_time_product.created', subject: 'one_time_product', summarize: (r) => pick(r, PRODUCT) },
  'DELETE /api/catalog/one-time-products/:productId': { action: 'one_time_product.archived', subject: 'one_time_product', summarize: (r) => pick(r, PRODUCT) },
  'POST /api/sub-accounts/:locationId/one-time-charges': { action: 'one_time_charge.created', subject: 'one_time_charge', step: CHARGE },
  'POST /api/sub-accounts/:locationId/one-time-charges/:chargeId/retry': { action: 'one_time_charge.retried', subject: 'one_time_charge', step: CHARGE },
  'POST /api/catalog/plans': { action: 'plan.created', subject: 'plan', summarize: (r) => pick(r, PLAN) },
  'DELETE /api/catalog/plans/:planId': { action: 'plan.archived', subject: 'plan', summarize: (r) => pick(r, PLAN) },
  'PUT /api/sub-accounts/:locationId/plan': { action: 'sub_account.plan_set', subject: 'subscription', describeVia: { path: '/api/sub-accounts/:locationId/plan', fields: ['planId', 'stripeSubscriptionId'] } },
  'POST /api/sub-accounts/:locationId/meter-batches/:batchId/retry': {
    action: 'meter_batch.retried', subject: 'meter_batch', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r, ['batchId', 'newIdentifier']) }),
  },
  'PUT /api/ai-senders': { action: 'ai_senders.set', subject: 'ai_senders', describeVia: { path: '/api/ai-senders', fields: ['markers'] } },
  'PUT /api/email-billing': { action: 'email_billing.set', subject: 'email_billing', describeVia: { path: '/api/email-billing', fields: ['source'] } },
  'POST /api/reconciliation/runs': { action: 'reconciliation.requested', subject: 'reconciliation', step: RUN },
  'POST /api/sub-accounts/:locationId/reconciliation/runs': { action: 'reconciliation.requested', subject: 'reconciliation', step: RUN },
  'POST /api/sub-accounts/:locationId/backfills': { action: 'backfill.started', subject: 'backfill', summarize: (r) => pick(r, BACKFILL) },
  'POST /api/sub-accounts/:locationId/backfills/:backfillId/cancel': { action: 'backfill.cancelled', subject: 'backfill', summarize: (r) => pick(r, BACKFILL) },
  'POST /api/sub-accounts/:locationId/backfills/:backfillId/bill': {
    action: 'backfill.billed', subject: 'backfill', summarize: (r) => ({ backfill: pick(r?.backfill, BACKFILL), ...pick(r, ['recordsOffered', 'unitsDue']) }),
  },
  'PUT /api/payments/settings': { action: 'payments.settings_set', subject: 'payments_settings', describeVia: { path: '/api/payments/settings', fields: ['requireCardBeforeSubscription'] } },
  'PUT /api/wallets/settings': {
    action: 'wallet.defaults_set', subject: 'wallet_settings',
    describeVia: { path: '/api/wallets/settings', fields: ['settings'] },
  },
  'PUT /api/sub-accounts/:locationId/wallet/settings': {
    action: 'wallet.settings_set', subject: 'wallet_settings', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r, WALLET) }),
  },
  'POST /api/sub-accounts/:locationId/wallet/top-ups': { action: 'wallet.top_up_requested', subject: 'wallet', step: TOP_UP },
  'PUT /api/suspension/settings': { action: 'suspension.settings_set', subject: 'suspension_settings', describe: (i, db) => findPolicy(db, i.caller!.companyId).then((p) => ({ ...p })) },
  'POST /api/sub-accounts/:locationId/suspension/resume': {
    action: 'sub_account.suspension_resumed', subject: 'suspension', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r?.suspension, ['active', 'resumedAt', 'resumedBy', 'invoiceId']), highLevel: pick(r?.suspension?.highLevel, ['state', 'error']) }),
  },
  'POST /api/sub-accounts/:locationId/wallet/checkout': {
    action: 'wallet.checkout_started', subject: 'wallet', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r, ['sessionId', 'amountCents', 'expiresAt']) }),
  },
  'POST /api/sub-accounts/:locationId/wallet/top-ups/:topUpId/refund': {
    action: 'wallet.top_up_refunded', subject: 'wallet',
    summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r?.refund, ['id', 'topUpId', 'amountCents', 'currency', 'status', 'grantRemainingCents', 'stripeRefundId']) }),
  },
  'POST /api/custom-metrics': { action: 'custom_metric.defined', subject: 'custom_metric', summarize: (r) => pick(r, METRIC) },
  'DELETE /api/custom-metrics/:key': { action: 'custom_metric.archived', subject: 'custom_metric', summarize: (r) => pick(r, METRIC) },
  // The signing secret is never in an entry: the before and after are the settings as read, without it.
  'PUT /api/alerts/settings': { action: 'alerts.webhook_set', subject: 'alert_settings', describe: (i, db) => describeAlertSettings(db, i.caller!.companyId) },
  'PUT /api/alerts/usage-thresholds': { action: 'alerts.usage_threshold_set', subject: 'usage_alert_threshold', summarize: (_r, i) => pick(i.body, ['locationId', 'metric', 'limit']) },
};

/** Write routes whose use case records its entry in the change's own transaction, with the action it records. */
export const AUDITED_IN_USE_CASE: Record<string, string> = {
  'PUT /api/stripe/connection': 'stripe.key_connected', // server/stripe/connection-audit.ts
  'DELETE /api/stripe/connection': 'stripe.disconnected',
  'PUT /api/stripe/webhook-secret': 'stripe.webhook_secret_set',
  'POST /api/api-keys': 'api_key.created', // server/usage-api/api-keys.ts
  'DELETE /api/api-keys/:keyId': 'api_key.revoked',
};

/** Write routes that change no billing configuration, each with the reason (a test checks every one has one). */
export const NOT_CONFIGURATION: Record<string, string> = {
  'POST /api/session': 'signs a HighLevel user in: a session token, nothing stored',
  'POST /api/stripe/connect': 'only starts Stripe’s authorization (a signed state); the Connect callback records the connection (stripe.connect_connected)',
  'POST /api/v1/usage': 'usage reported by an API key: metering data, not configuration',
  'POST /api/sub-accounts/:locationId/payments/card-link': 'opens Stripe Checkout for the client to save a card: Stripe holds the card, nothing of ours changes',
  'POST /api/sub-accounts/:locationId/payments/portal-link': 'opens Stripe’s customer portal session: nothing of ours changes',
  'POST /api/alerts/:alertId/read': 'marks a notification read: the in-app list’s read state, no billing configuration',
  'POST /api/alerts/read-all': 'marks every notification read: the in-app list’s read state, no billing configuration',
};
