/**
 * Request and response schemas of billing set-up: the Stripe connection, the pricing grid and defaults, the
 * sub-accounts' billing. Response schemas are allow-lists: anything a use case
 * returns that is not listed here (a sealed key, a token) is dropped before it leaves the server. Zod only (no
 * node, drizzle or express import): the page takes its types from here (ui/src/api-types.ts).
 */
import { z } from 'zod';
import { stripeConnectInfo } from '../stripe/connect-schemas';

/**
 * A sub-account's billing state: `billing`, or the reason it is not billed (billing-state-words.ts `BILLING_STATES`,
 * spelled out here so this file imports only zod; routes.ts checks they agree).
 */
export const billingStateSchema = z.enum(['billing', 'uninstalled', 'rebilling_off', 'no_customer', 'shadow', 'paused', 'no_subscription', 'metric_not_covered']);

/** A sub-account's billing status (models/schema `BILLING_STATUSES`; server/billing-setup/routes.ts checks they agree). */
export const billingStatusSchema = z.enum(['ok', 'delinquent', 'action_required', 'paused']);
/** Live billing, or shadow mode (crossings computed and shown, never sent to Stripe). */
export const billingModeSchema = z.enum(['live', 'shadow']);
/** Which usage a rule counts: outbound, inbound or both. */
export const directionSchema = z.enum(['outbound', 'inbound', 'both']);
/** Stripe `tax_behavior`: tax included in the amounts, or added on top. */
export const taxBehaviorSchema = z.enum(['inclusive', 'exclusive']);
/** The answer of a removal: `{ ok: true }`. */
export const okResponse = z.object({ ok: z.literal(true) });

/** `:locationId`, a HighLevel location id. */
export const locationIdParam = z.object({ locationId: z.string().min(1).max(200) });
/** `:metric`, a metric key in lower snake case. */
export const metricParam = z.object({ metric: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/) });

const decimalCents = z.string().regex(/^\d{1,12}(\.\d{1,12})?$/, 'must be a non-negative decimal amount in cents');
const positiveDecimal = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((v) => /^\d{1,18}(\.\d{1,6})?$/.test(v) && Number(v) > 0, 'must be a positive number with at most 6 decimals');

/** `PUT /api/stripe/connection` body: a secret (sk_) or restricted (rk_) key. */
export const stripeConnectRequest = z.object({ secretKey: z.string().min(1).max(300) });
/** `PUT /api/stripe/webhook-secret` body: a webhook signing secret (whsec_). */
export const webhookSecretRequest = z.object({ secret: z.string().min(1).max(300) });
/** The agency's Stripe connection: mode, key type and last 4, account, missing permissions, webhook, error reports. */
export const stripeConnectionResponse = z.object({
  connected: z.boolean(),
  mode: z.enum(['test', 'live']).nullable(),
  keyType: z.enum(['secret', 'restricted']).nullable(),
  keyLast4: z.string().nullable(),
  accountId: z.string().nullable(),
  accountName: z.string().nullable(),
  missingPermissions: z.array(z.object({ permission: z.string(), label: z.string() })),
  webhook: z.object({ url: z.string(), configured: z.boolean(), createdByMeterbridge: z.boolean() }),
  errorReports: z
    .object({ url: z.string(), configured: z.boolean() })
    .describe('The Stripe event destination receiving meter-event error reports (thin events), created on connect'),
  connect: stripeConnectInfo,
});

const tier = z.object({ upTo: z.union([z.number().int().positive(), z.literal('inf')]), unitAmountDecimal: decimalCents, flatAmount: z.number().int().min(0).optional() });
/** A metered price as given: currency, interval, and a unit amount or tiers (cents, decimal strings). */
export const priceTermsSchema = z
  .object({
    currency: z.string().regex(/^[a-z]{3}$/, 'must be an ISO currency code in lowercase'),
    interval: z.enum(['day', 'week', 'month', 'year']).default('month'),
    unitAmountDecimal: decimalCents.optional(),
    tiers: z.array(tier).min(2).max(10).optional(),
  })
  .refine((t) => (t.unitAmountDecimal === undefined) !== (t.tiers === undefined), 'give either unitAmountDecimal or tiers')
  .refine((t) => !t.tiers || t.tiers.at(-1)?.upTo === 'inf', 'the last tier must have upTo "inf"');

/** `PUT /api/pricing/:metric` body: the default rule and its price. */
export const metricPricingRequest = z.object({
  enabled: z.boolean().default(true),
  threshold: positiveDecimal,
  direction: directionSchema.optional(),
  price: priceTermsSchema,
  /** HighLevel's cost to the agency per unit of the metric, cents. */
  baseCostDecimal: decimalCents.nullable().optional(),
});

/** `:direction` of a directional rule: HighLevel's inbound or outbound activity. */
export const ruleDirectionParam = z.object({ direction: z.enum(['inbound', 'outbound']) });

/** `PUT /api/pricing/:metric/directions/:direction` body: that direction's default rule and price. */
export const directionalPricingRequest = metricPricingRequest.omit({ direction: true });

/** One metric of the pricing grid: rule, terms, retail, base cost and margin per metric unit (cents). */
export const pricingRowSchema = z.object({
  metric: z.string(),
  enabled: z.boolean(),
  threshold: z.string(),
  direction: directionSchema,
  /** True for a metric HighLevel reports inbound or outbound: it can be priced per direction. */
  directional: z.boolean(),
  priceTerms: z
    .object({
      currency: z.string(),
      interval: z.string(),
      unitAmountDecimal: z.string().optional(),
      tiers: z.array(z.object({ upTo: z.union([z.number(), z.literal('inf')]), unitAmountDecimal: z.string(), flatAmount: z.number().optional() })).optional(),
    })
    .nullable(),
  stripePriceId: z.string().nullable(),
  retailPerMetricUnit: z.string().nullable(),
  baseCostDecimal: z.string().nullable(),
  marginPerMetricUnit: z.string().nullable(),
  marginPercent: z.string().nullable(),
  belowCost: z.boolean(),
  doubleBillingWarning: z.string().nullable(),
});

/** `GET /api/pricing`: the grid of the agency defaults. */
export const pricingResponse = z.object({
  currency: z.string(),
  autoApply: z.boolean(),
  flatFee: z.object({ amount: z.number().int(), priceId: z.string() }).nullable(),
  /** Stripe `tax_behavior` of every price Meterbridge creates for the agency: tax included in the amounts, or added on top. */
  taxBehavior: taxBehaviorSchema,
  /** One row per metric priced as one rule; a metric priced per direction is in `directionalRows` instead. */
  rows: z.array(pricingRowSchema),
  /** The inbound and outbound rows of each metric priced per direction (each its own threshold, meter and price). */
  directionalRows: z.array(pricingRowSchema),
  /** What HighLevel's SaaS API showed about HighLevel's own rebilling (server/highlevel/saas-rebilling.ts). */
  highLevelRebilling: z.object({
    readable: z.boolean(),
    checkedSubAccounts: z.number().int(),
    saasSubAccounts: z.number().int(),
    lastCheckedAt: z.string().nullable(),
  }),
});

/** `PUT /api/defaults` body. */
export const defaultsRequest = z.object({
  autoApply: z.boolean().optional(),
  /** A flat monthly fee in cents added to every subscription; null removes it. */
  flatFeeAmount: z.number().int().min(0).max(100_000_000).nullable().optional(),
  currency: z.string().regex(/^[a-z]{3}$/).optional(),
  /** Tax inclusion of the agency's prices (Stripe `tax_behavior`); a change makes new prices and resyncs subscriptions. */
  taxBehavior: taxBehaviorSchema.optional(),
});
/** `POST /api/defaults/apply` body: 1–500 sub-accounts. */
export const applyDefaultsRequest = z.object({ locationIds: z.array(z.string().min(1).max(200)).min(1).max(500) });
/** `POST /api/defaults/apply` answer: per sub-account, ok or the error's message. */
export const applyDefaultsResponse = z.object({
  results: z.array(z.object({ locationId: z.string(), ok: z.boolean(), error: z.string().optional(), stripeCustomerId: z.string().nullable().optional() })),
});

/** A sub-account as listed: install, Stripe customer and subscription, billing status and mode, report counts. */
export const subAccountRowSchema = z.object({
  locationId: z.string(),
  name: z.string().nullable(),
  /** The agency's own name for the client (null: none), shown beside HighLevel's name. */
  nickname: z.string().nullable(),
  email: z.string().nullable(),
  installed: z.boolean(),
  needsReinstall: z.boolean(),
  rebillingEnabled: z.boolean(),
  stripeCustomerId: z.string().nullable(),
  stripeSubscriptionId: z.string().nullable(),
  billingStatus: billingStatusSchema,
  billingStatusReason: z.string().nullable(),
  /** The open invoice whose payment failed or waits for the client (Stripe's figures), else null. */
  paymentProblem: z
    .object({
      invoiceId: z.string(),
      invoiceNumber: z.string().nullable(),
      amountDueCents: z.number().int(),
      currency: z.string(),
      attemptCount: z.number().int(),
      nextPaymentAttempt: z.string().nullable(),
      declineCode: z.string().nullable(),
      failureCode: z.string().nullable(),
      failureMessage: z.string().nullable(),
      hostedInvoiceUrl: z.string().nullable(),
    })
    .nullable(),
  failedReports: z.number().int(),
  rejectedReports: z.number().int().describe('Meter reports Stripe rejected in an error report after accepting them'),
  billingMode: billingModeSchema,
  billingModeChangedAt: z.string().nullable(),
  /** A subscription starting later: its Stripe schedule (`sub_sched_…`) and start, until Stripe starts it. */
  scheduled: z.boolean(),
  stripeSubscriptionScheduleId: z.string().nullable(),
  subscriptionStartsAt: z.string().nullable(),
  /** Stripe Tax on the subscription (or schedule), as Stripe last answered. */
  automaticTax: z.boolean(),
  /** `billing`, or why the sub-account is not billed (server/billing-setup/billing-state.ts, the one definition). */
  billingState: billingStateSchema,
});
const effectiveRuleSchema = z.object({
  metric: z.string(),
  enabled: z.boolean(),
  threshold: z.string(),
  direction: directionSchema,
  meterEventName: z.string(),
  inherited: z.boolean(),
  stripePriceId: z.string().nullable(),
});
/** One sub-account: its row, the rules in force and its counters (totals as decimal strings). */
export const subAccountDetailResponse = subAccountRowSchema.extend({
  /** The agency's name as HighLevel gave it at install (`companyName`), for the client's own view; null if unknown. */
  agencyName: z.string().nullable(),
  /** The agency's custom metrics' labels by key. */
  metricLabels: z.record(z.string(), z.string()),
  rules: z.array(effectiveRuleSchema),
  counters: z.array(z.object({ metric: z.string(), direction: directionSchema, total: z.string(), billedUnits: z.number().int() })),
});

/** `PUT …/nickname` body: the agency's name for the client; null or blank removes it. */ export const nicknameRequest = z.object({ nickname: z.string().trim().max(100).nullable() });

/** `GET /api/stripe/customers` query. */
export const customerSearchQuery = z.object({ query: z.string().min(1).max(200) });
/** `GET /api/stripe/customers`: matching customers of the agency's Stripe account. */
export const customerSearchResponse = z.object({ customers: z.array(z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable() })) });
/** `PUT …/customer` body: an existing customer id, or `create: true`. */
export const mapCustomerRequest = z.union([
  z.object({ customerId: z.string().regex(/^cus_[A-Za-z0-9]+$/, 'must be a Stripe customer id (cus_…)') }),
  z.object({ create: z.literal(true) }),
]);

/** `PUT …/billing` body: rebilling switch, per-metric overrides, subscription. */
export const subAccountBillingRequest = z.object({
  rebillingEnabled: z.boolean().optional(),
  /** Per-metric overrides; `inherit: true` removes the override. */
  overrides: z
    .array(
      z.union([
        z.object({ metric: metricParam.shape.metric, inherit: z.literal(true) }),
        z.object({
          metric: metricParam.shape.metric,
          enabled: z.boolean().default(true),
          threshold: positiveDecimal,
          direction: directionSchema.optional(),
          /** True: this is one rule of an inbound + outbound pair (`direction` inbound or outbound); the other stays. */
          perDirection: z.boolean().optional(),
          price: priceTermsSchema.optional(),
        }),
      ]),
    )
    .max(50)
    .optional(),
  subscription: z
    .object({
      /**
       * When billing starts; now when omitted. A time in the future, for a sub-account without a subscription, makes a
       * Stripe subscription schedule that starts then (the sub-account is "scheduled" until it does).
       */
      startAt: z.iso.datetime({ offset: true }).optional(),
      coupon: z.string().max(200).optional(),
      /** Stripe Tax; switching it on needs active Stripe Tax settings and the customer's country and postal code. */
      automaticTax: z.boolean().optional(),
      /** Set on the Stripe customer (validated by Stripe Tax) before automatic tax is switched on. */
      billingAddress: z
        .object({
          country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO 3166-1 country code in capitals, like "US"'),
          postalCode: z.string().trim().min(1).max(20),
          line1: z.string().max(200).optional(),
          line2: z.string().max(200).optional(),
          city: z.string().max(200).optional(),
          state: z.string().max(200).optional(),
        })
        .optional(),
    })
    .optional(),
});
