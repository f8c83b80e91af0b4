/**
 * Request and response schemas of the shadow-mode routes (server/shadow/routes.ts). Zod only: the page takes its
 * types from here (ui/src/api-types.ts). Amounts are cents as decimal strings, times ISO 8601 UTC.
 */
import { z } from 'zod';

const cents = z.string().describe('decimal amount in the currency’s smallest unit (cents)');
const isoTime = z.string().describe('ISO 8601, UTC');

/** `PUT …/billing-mode` body. */
export const billingModeRequest = z.object({ mode: z.enum(['live', 'shadow']) });

/** `GET …/would-bill` answer (server/shadow/would-bill.ts). */
export const wouldBillResponse = z.object({
  locationId: z.string(),
  billingMode: z.enum(['live', 'shadow']),
  billingModeChangedAt: isoTime.nullable(),
  currency: z.string(),
  totalCents: cents,
  firstCrossedAt: isoTime.nullable(),
  lastCrossedAt: isoTime.nullable(),
  metrics: z.array(
    z.object({
      metric: z.string(),
      /** The direction of the rule the units were counted under; null for a metric priced as one. */
      direction: z.enum(['inbound', 'outbound']).nullable(),
      units: z.number().int(),
      reports: z.number().int(),
      firstCrossedAt: isoTime,
      lastCrossedAt: isoTime,
      meterEventName: z.string(),
      threshold: z.string().nullable(),
      stripePriceId: z.string().nullable(),
      priced: z.boolean(),
      currency: z.string().nullable(),
      amountCents: cents.nullable(),
      months: z.array(z.object({ month: z.string().describe('YYYY-MM, UTC'), units: z.number().int(), amountCents: cents.nullable() })),
    }),
  ),
  /**
   * For a prepaid sub-account, what its wallet would have drawn (integer cents): the backlog's amounts month by month
   * from a wallet that started empty, with the top-ups its settings would have charged; null when billed postpaid.
   */
  wallet: z
    .object({
      drawnCents: z.number().int(),
      topUps: z.number().int(),
      topUpCents: z.number().int(),
      endBalanceCents: z.number().int(),
      months: z.array(z.object({ month: z.string(), drawnCents: z.number().int(), topUps: z.number().int(), topUpCents: z.number().int(), endBalanceCents: z.number().int() })),
    })
    .nullable(),
});

/** `POST …/would-bill/bill` answer. */
export const billedBacklogResponse = z.object({
  locationId: z.string(),
  stripeCustomerId: z.string(),
  reports: z.number().int(),
  metrics: z.array(z.object({ metric: z.string(), units: z.number().int(), reports: z.number().int() })),
});

