/**
 * Which audit entry each write route of the settings API writes (issue 19, item 3), keyed `METHOD path` as in the
 * route table. `withAudit` (server/audit/with-audit.ts) wraps those routes' handlers. Routes whose use case records
 * its own entry in its own transaction are in AUDITED_IN_USE_CASE; writes that change no billing configuration are
 * in NOT_CONFIGURATION. A test checks that every write route of the table is in exactly one of the three.
 */
import type { Executor } from '../../models/database';
import type { Caller } from '../http/api-route';
import { pick, type Description } from './audited';
import { describeDefaultRule, describeDefaults, describeSubAccountBilling } from './describe';

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
}

const subAccount = (action: string): RouteAudit => ({ action, subject: 'sub_account_billing', describe: (i, db) => describeSubAccountBilling(db, i.params.locationId) });
const COUPON = ['id', 'name', 'percentOff', 'amountOff', 'currency', 'duration', 'durationInMonths', 'maxRedemptions', 'redeemBy', 'valid'];
const PRODUCT = ['id', 'name', 'description', 'amount', 'currency', 'stripeProductId', 'stripePriceId', 'archived'];
const CHARGE = ['id', 'locationId', 'productId', 'productName', 'amount', 'currency', 'mode', 'status', 'stripeInvoiceId'];
const PLAN = ['id', 'name', 'currency', 'interval', 'baseFeeAmount', 'stripeBasePriceId', 'isDefault', 'archived', 'metrics'];
const BACKFILL = ['id', 'locationId', 'channels', 'startAt', 'endAt', 'bill', 'status'];
const METRIC = ['key', 'label', 'unit', 'archivedAt'];
const WALLET = ['billingMode', 'currency', 'initialTopUpCents', 'thresholdCents', 'topUpCents', 'maxBalanceCents', 'monthlyCapCents', 'source'];
const TOP_UP = ['id', 'trigger', 'amountCents', 'currency', 'status', 'stripeInvoiceId'];
const RUN = ['id', 'locationId', 'trigger', 'status', 'pairsChecked', 'pairsWithDrift'];

/** The audited write routes. */
export const ROUTE_AUDITS: Record<string, RouteAudit> = {
  'PUT /api/pricing/:metric': { action: 'pricing.rule_set', subject: 'pricing_rule', describe: (i, db) => describeDefaultRule(db, i.caller!.companyId, i.params.metric) },
  'PUT /api/defaults': { action: 'defaults.set', subject: 'defaults', describe: (i, db) => describeDefaults(db, i.caller!.companyId) },
  'POST /api/defaults/apply': {
    action: 'defaults.applied', subject: 'sub_account_billing',
    summarize: (r) => ({ results: (r?.results ?? []).map((x: unknown) => pick(x, ['locationId', 'ok', 'stripeCustomerId'])) }),
  },
  'PUT /api/sub-accounts/:locationId/customer': subAccount('sub_account.customer_mapped'),
  'PUT /api/sub-accounts/:locationId/billing': subAccount('sub_account.billing_set'),
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
  'POST /api/sub-accounts/:locationId/one-time-charges': { action: 'one_time_charge.created', subject: 'one_time_charge', summarize: (r) => pick(r, CHARGE) },
  'POST /api/sub-accounts/:locationId/one-time-charges/:chargeId/retry': { action: 'one_time_charge.retried', subject: 'one_time_charge', summarize: (r) => pick(r, CHARGE) },
  'POST /api/catalog/plans': { action: 'plan.created', subject: 'plan', summarize: (r) => pick(r, PLAN) },
  'PUT /api/sub-accounts/:locationId/plan': { action: 'sub_account.plan_set', subject: 'subscription', describeVia: { path: '/api/sub-accounts/:locationId/plan', fields: ['planId', 'stripeSubscriptionId'] } },
  'POST /api/sub-accounts/:locationId/meter-batches/:batchId/retry': {
    action: 'meter_batch.retried', subject: 'meter_batch', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r, ['batchId', 'newIdentifier']) }),
  },
  'PUT /api/ai-senders': { action: 'ai_senders.set', subject: 'ai_senders', describeVia: { path: '/api/ai-senders', fields: ['markers'] } },
  'PUT /api/email-billing': { action: 'email_billing.set', subject: 'email_billing', describeVia: { path: '/api/email-billing', fields: ['source'] } },
  'POST /api/reconciliation/runs': { action: 'reconciliation.requested', subject: 'reconciliation', summarize: (r) => pick(r, RUN) },
  'POST /api/sub-accounts/:locationId/reconciliation/runs': { action: 'reconciliation.requested', subject: 'reconciliation', summarize: (r) => pick(r, RUN) },
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
  'POST /api/sub-accounts/:locationId/wallet/top-ups': {
    action: 'wallet.top_up_requested', subject: 'wallet', summarize: (r, i) => ({ locationId: i.params.locationId, ...pick(r?.topUp, TOP_UP) }),
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
};

/** Write routes whose use case records its entry in the change's own transaction. */
export const AUDITED_IN_USE_CASE = [
  'PUT /api/stripe/connection', // server/stripe/connection-audit.ts
  'DELETE /api/stripe/connection',
  'PUT /api/stripe/webhook-secret',
  'POST /api/api-keys', // server/usage-api/api-keys.ts
  'DELETE /api/api-keys/:keyId',
];

/** Write routes that change no billing configuration (the Connect callback records the connection). */
export const NOT_CONFIGURATION = [
  'POST /api/session',
  'POST /api/stripe/connect',
  'POST /api/v1/usage',
  'POST /api/sub-accounts/:locationId/payments/card-link',
  'POST /api/sub-accounts/:locationId/payments/portal-link',
];
