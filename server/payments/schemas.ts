/**
 * The payments API's contract: request and response schemas, shared with the UI (ui/src/api-types-payments.ts takes
 * its types with `import type` + `z.infer`). Imports zod only, so the UI's bundle pulls in nothing of the server.
 * Money is integer cents (`…Cents`), never a float; times are ISO 8601 UTC strings; Stripe ids as Stripe gives them.
 */
import { z } from 'zod';

export const locationIdParam = z.object({ locationId: z.string().min(1).max(100) });

/**
 * The payment method Stripe charges a sub-account's invoices with: the subscription's `default_payment_method`,
 * else the customer's `invoice_settings.default_payment_method` (`source` says which). `expiringSoon`: a card whose last valid
 * month (cards are valid through the end of their expiry month) is this month or next month, UTC; `expired` once
 * that month is over. Only cards have an expiry; other payment method types are usable as they are.
 */
export const cardSchema = z.object({
  status: z.enum(['card_on_file', 'no_card', 'no_customer', 'customer_deleted']),
  /** The Stripe customer's `name` (docs.stripe.com/api/customers/object#customer_object-name); null when unnamed or unknown. */
  customerName: z.string().nullable(),
  /** True when Stripe can charge it: a payment method on file that has not expired. */
  usable: z.boolean(),
  source: z.enum(['customer', 'subscription']).nullable(),
  paymentMethodId: z.string().nullable(),
  /** Stripe's payment method type, e.g. `card`, `sepa_debit`. */
  type: z.string().nullable(),
  brand: z.string().nullable(),
  last4: z.string().nullable(),
  expMonth: z.number().int().nullable(),
  expYear: z.number().int().nullable(),
  expiringSoon: z.boolean(),
  expired: z.boolean(),
});

/**
 * Units kept back from Stripe because no subscription item of the customer covers their price (`no_subscription`),
 * or the sub-account is suspended. Per metric only: units of different metrics are never added up (issue 22).
 */
export const heldUsageSchema = z.object({
  /** Per metric: the held units and the reason, in words. */
  metrics: z.array(z.object({ metric: z.string(), units: z.number().int(), oldestCrossedAt: z.string(), reason: z.string() })),
});

/** One sub-account's payment picture (card and held usage); `GET /api/sub-accounts/:locationId/payments`. */
export const subAccountPaymentsResponse = z.object({
  locationId: z.string(),
  stripeCustomerId: z.string().nullable(),
  card: cardSchema,
  held: heldUsageSchema,
  /** The agency refuses to start a subscription before a card is on file. */
  cardRequired: z.boolean(),
  /** The subscription as Stripe has it now: set to end at the period's end when rebilling was switched off. */
  subscription: z
    .object({ id: z.string(), status: z.string(), cancelAtPeriodEnd: z.boolean(), currentPeriodEnd: z.string().nullable(), endsAt: z.string().nullable() })
    .nullable(),
});

/**
 * Per sub-account of a page of the agency's list: `GET /api/payments/sub-accounts?locationIds=a,b`. The cards are
 * those stored (server/payments/stored-cards.ts), read from Stripe in the background, not on the request.
 */
export const paymentFlagsQuery = z.object({ locationIds: z.string().max(5000) });
export const paymentFlagsResponse = z.object({
  items: z.array(
    z.object({
      locationId: z.string(),
      /** Null without a customer, while it is being checked, or when it could not be read (`error`). */
      card: cardSchema.nullable(),
      /** Billed (a subscription) while Stripe has no usable card. */
      billedWithoutCard: z.boolean(),
      /** Usage of some metric is held back (the sub-account's payments give it per metric; never a sum across metrics). */
      hasHeldUsage: z.boolean(),
      /** Stripe's message when the card could not be read, or why Stripe cannot be used. */
      error: z.string().nullable(),
      /** The card has not been read from Stripe yet: it is being checked. */
      checking: z.boolean(),
      /** When Stripe was read for the card shown (ISO 8601); null when none is. */
      checkedAt: z.string().nullable(),
    }),
  ),
});

/**
 * What the stored cards say of the agency's billed sub-accounts (those with a subscription), for the Overview's
 * "billed without a card" and the list's `no_card` filter: read from Stripe in the background
 * (server/payments/card-refresh.ts), never on the request, so the answer says how fresh it is.
 */
export const cardCheckNote = z.object({
  asOf: z.string().nullable().describe('When Stripe was read for the oldest card counted (ISO 8601); null when none is'),
  checking: z.number().int().describe('Billed sub-accounts whose card has not been read from Stripe yet: not counted until it is'),
  refreshing: z.number().int().describe('Billed sub-accounts whose stored card is being read again (a webhook said it changed, or it is older than an hour): counted as stored'),
  unreadable: z.number().int().describe('Billed sub-accounts whose card Stripe could not read: not counted'),
  error: z.string().nullable().describe('Stripe’s message for the first card it could not read, or why Stripe cannot be used'),
});
/** The note as the server builds it (server/payments/stored-cards.ts `cardCheck`). */
export type CardCheckNote = z.infer<typeof cardCheckNote>;

/** A link to one of Stripe's hosted pages, for the client to open or the agency to copy and send. */
export const hostedLinkResponse = z.object({
  url: z.string(),
  /** When the link stops working, ISO 8601; null for links Stripe does not date (portal sessions are short-lived). */
  expiresAt: z.string().nullable(),
  kind: z.enum(['checkout_setup', 'billing_portal']),
});

/** One Stripe invoice (docs.stripe.com/api/invoices/object); amounts in cents. */
export const invoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  customer: z.string().nullable(),
  locationId: z.string().nullable(),
  /** The sub-account's name as HighLevel gave it, when known. */
  subAccountName: z.string().nullable(),
  /** Stripe's status: draft, open, paid, uncollectible or void (kept as a string: Stripe may add more). */
  status: z.string().nullable(),
  /** Open and past its due date (or, charged automatically, attempted and still unpaid). */
  pastDue: z.boolean(),
  currency: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  created: z.string(),
  dueDate: z.string().nullable(),
  totalCents: z.number().int(),
  amountPaidCents: z.number().int(),
  amountDueCents: z.number().int(),
  hostedInvoiceUrl: z.string().nullable(),
  invoicePdf: z.string().nullable(),
});

export const invoiceListQuery = z.object({
  /** `past_due`: open and past due (see `pastDue`). */
  status: z.enum(['open', 'paid', 'past_due', 'uncollectible', 'void', 'draft']).optional(),
  /** Stripe's cursor: the last invoice id of the previous page. */
  startingAfter: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export const invoiceListResponse = z.object({
  invoices: z.array(invoiceSchema),
  hasMore: z.boolean(),
  /** Pass as `startingAfter` for the next page; null on the last. */
  nextCursor: z.string().nullable(),
  /** Sums over this page per currency, in cents. */
  totals: z.array(z.object({ currency: z.string(), totalCents: z.number().int(), amountPaidCents: z.number().int(), amountDueCents: z.number().int(), count: z.number().int() })),
});

/** The next invoice as Stripe previews it (`invoices.createPreview`), or why there is none. */
export const nextInvoiceResponse = z.object({
  available: z.boolean(),
  /** Why there is no preview, in words (no customer, no subscription, Stripe's `invoice_upcoming_none`). */
  reason: z.string().nullable(),
  invoice: z
    .object({
      currency: z.string(),
      periodStart: z.string(),
      periodEnd: z.string(),
      /** When Stripe will finalize and try to collect it, ISO 8601, if known. */
      nextPaymentAttempt: z.string().nullable(),
      lines: z.array(z.object({ description: z.string().nullable(), amountCents: z.number().int(), quantity: z.number().nullable(), metered: z.boolean(), periodStart: z.string(), periodEnd: z.string() })),
      subtotalCents: z.number().int(),
      discountCents: z.number().int(),
      taxCents: z.number().int(),
      totalCents: z.number().int(),
      amountDueCents: z.number().int(),
    })
    .nullable(),
});

/** The agency's payment options. */
export const paymentSettingsSchema = z.object({ requireCardBeforeSubscription: z.boolean() });
export const paymentSettingsRequest = paymentSettingsSchema.partial();
