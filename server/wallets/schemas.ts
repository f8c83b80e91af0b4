/**
 * The wallets API's contract (issue 17): request and response schemas, shared with the UI (ui/src/api-types-wallets.ts
 * takes its types with `import type` + `z.infer`). Imports zod only, so the UI's bundle pulls in nothing of the server.
 * Money is integer cents (`…Cents`), never a float; times are ISO 8601 UTC strings; Stripe ids as Stripe gives them.
 */
import { z } from 'zod';

export const locationIdParam = z.object({ locationId: z.string().min(1).max(100) });

/** Positive whole cents, at most 10^10 (100 million in the currency's major unit). */
const cents = z.number().int().positive().max(10_000_000_000);

/**
 * Wallet settings as set by the agency (its default for every sub-account, or one sub-account's own):
 * `billingMode` postpaid (the metered subscription invoiced at period end) or prepaid (a wallet of Stripe credit
 * grants the period's metered usage draws down); the top-up rule: when the balance falls below `thresholdCents`
 * charge `topUpCents` (the first time `initialTopUpCents`), never taking the balance above `maxBalanceCents`, and never
 * more than `monthlyCapCents` of top-ups in a calendar month (UTC; null = no cap). `currency` must be the agency's.
 * Refused with 400 `invalid_wallet_settings` when the threshold is not below the maximum or the currency differs.
 */
export const walletSettingsRequest = z.object({
  billingMode: z.enum(['postpaid', 'prepaid']),
  currency: z.string().regex(/^[a-z]{3}$/),
  initialTopUpCents: cents,
  thresholdCents: cents,
  topUpCents: cents,
  maxBalanceCents: cents,
  monthlyCapCents: cents.nullable(),
});

/** Stored settings: the request's fields, and where they come from (`agency` default or the `sub-account`'s own). */
export const walletSettingsSchema = walletSettingsRequest.extend({ source: z.enum(['agency', 'sub-account']) });

/** The agency's default wallet settings, null until set. */
export const agencyWalletSettingsResponse = z.object({ settings: walletSettingsSchema.nullable() });

/**
 * Where a top-up stands: `pending` (its invoice is being made and charged), `paid` (the invoice is paid; the credit
 * grant is being made), `granted` (a Stripe credit grant holds the money: done), `payment_failed` (Stripe declined
 * the card; Stripe's message in `error`), `failed` (Stripe refused or failed a call; its message in `error`).
 */
export const TOP_UP_STATUSES = ['pending', 'paid', 'granted', 'payment_failed', 'failed'] as const;

/** One top-up of the wallet ledger. */
export const topUpSchema = z.object({
  id: z.number().int(),
  trigger: z.enum(['manual', 'auto', 'initial', 'checkout']),
  amountCents: z.number().int(),
  currency: z.string(),
  status: z.enum(TOP_UP_STATUSES),
  balanceBeforeCents: z.number().int().nullable(),
  stripeInvoiceId: z.string().nullable(),
  stripeCreditGrantId: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
});

/**
 * A wallet's balance, cents: `creditCents` is Stripe's available credit balance for metered prices
 * (`GET /v1/billing/credit_balance_summary`), `unbilledUsageCents` the usage of the current period not yet invoiced at
 * today's prices (Meterbridge's running estimate), `balanceCents` = credit − unbilled usage (negative when usage has
 * outrun the credit). Null when the sub-account has no Stripe customer.
 */
export const walletBalanceSchema = z.object({
  currency: z.string(),
  creditCents: z.number().int(),
  unbilledUsageCents: z.number().int(),
  balanceCents: z.number().int(),
  low: z.boolean(),
});

/**
 * One refund of a top-up (the wallet ledger): `amountCents` back to the card; the top-up's credit grant
 * `voidedGrantId` had `grantRemainingCents` left, of which the rest was granted again as `replacementGrantId`.
 * `pending` (being carried out; Stripe's message in `error` when a step failed, resumed by the next check),
 * `refunded`, `failed` (given up: settle it in Stripe).
 */
export const refundSchema = z.object({
  id: z.number().int(),
  topUpId: z.number().int(),
  amountCents: z.number().int(),
  currency: z.string(),
  status: z.enum(['pending', 'refunded', 'failed']),
  grantRemainingCents: z.number().int(),
  voidedGrantId: z.string(),
  replacementGrantId: z.string().nullable(),
  stripeRefundId: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
});

/** A sub-account's wallet: its mode, the settings in force, its balance, its latest top-ups and refunds (newest first). */
export const walletResponse = z.object({
  locationId: z.string(),
  billingMode: z.enum(['postpaid', 'prepaid']),
  settings: walletSettingsSchema.nullable(),
  balance: walletBalanceSchema.nullable(),
  topUps: z.array(topUpSchema),
  refunds: z.array(refundSchema),
});

/** `:locationId` and `:topUpId` (a top-up's id, a positive integer). */
export const topUpIdParam = locationIdParam.extend({ topUpId: z.coerce.number().int().positive() });

/**
 * What may be refunded of a top-up now, cents: the least of what remains on its credit grant, the wallet's balance
 * (credit less unbilled usage) and what was paid for it less earlier refunds — never below 0.
 */
export const refundableSchema = z.object({
  topUpId: z.number().int(),
  currency: z.string(),
  refundableCents: z.number().int(),
  grantRemainingCents: z.number().int(),
  balanceCents: z.number().int(),
  paidLeftCents: z.number().int(),
});

/** "Refund": `amountCents` defaults to all that is refundable. */
export const refundRequest = z.object({ amountCents: cents.optional() });
/** The refund as it stands (`refunded`, or `pending` with Stripe's message in `error`). */
export const refundResponse = z.object({ refund: refundSchema });

/** The client's "Top up now" on Stripe Checkout: `amountCents` defaults to the settings' top-up amount. */
export const checkoutTopUpRequest = z.object({ amountCents: cents.optional() });
/** The hosted payment page to open: `url`, valid until `expiresAt` (Unix seconds); `amountCents` to be paid. */
export const checkoutTopUpResponse = z.object({ sessionId: z.string(), url: z.string(), expiresAt: z.number().int(), amountCents: z.number().int() });

/**
 * The agency's prepaid sub-accounts and their balances (cents), most urgent first: `negative` (usage has outrun the
 * credit), then `low` (below the threshold), then the rest. `balance` null with Stripe's message in `error` when
 * Stripe could not be read for that one.
 */
export const agencyBalancesResponse = z.object({
  wallets: z.array(
    z.object({
      locationId: z.string(),
      name: z.string().nullable(),
      thresholdCents: z.number().int(),
      maxBalanceCents: z.number().int(),
      balance: walletBalanceSchema.nullable(),
      negative: z.boolean(),
      lastTopUp: topUpSchema.nullable(),
      error: z.string().nullable(),
    }),
  ),
});

/** "Top up now": `amountCents` defaults to the settings' top-up amount. */
export const topUpRequest = z.object({ amountCents: cents.optional() });

/** The top-up as it stands after charging (granted, or payment_failed with Stripe's message). */
export const topUpResponse = z.object({ topUp: topUpSchema });
