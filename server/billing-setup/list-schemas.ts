/**
 * The sub-accounts list's contract (`GET /api/sub-accounts`, server/billing-setup/sub-account-list.ts): its filters,
 * query and page, shared with the UI (ui/src/api-types.ts takes its types with `import type` + `z.infer`). Imports
 * zod and other schema files only.
 */
import { z } from 'zod';
import { cardCheckNote } from '../payments/schemas';
import { billingStateSchema, subAccountRowSchema } from './schemas';

/** The Overview's warning cards and counts, as list filters (each the same condition the Overview counts). */
export const subAccountStatusFilter = z.enum([
  'rebilling', 'failed', 'rejected', 'unconfirmed', 'delinquent', 'needs_reinstall',
  /** An invoice Stripe could not collect, or one that waits for the client. */
  'payment_failed',
  /** Billed (a subscription), but Stripe has no usable card (server/money/attention.ts, from the stored cards). */
  'no_card',
  /** Rebilling on and live, yet nothing is invoiced: no customer, no subscription, paused, or usage held. */
  'not_billing',
  /** Sub-accounts whose Stripe totals drifted (reconciliation). */
  'drift',
  ...billingStateSchema.options,
]);
/** `GET /api/sub-accounts` query: search, filter, order and page. */
export const subAccountListQuery = z.object({
  search: z.string().max(200).optional(),
  /** Only the sub-accounts an Overview number counts. */
  status: subAccountStatusFilter.optional(),
  /** `attention`: not billing first, then payment problems, then by name; `amount`: this period's, largest first, across all pages (sub-account-list.ts). */
  sort: z.enum(['name', 'attention', 'amount']).default('name'),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
/** `GET /api/sub-accounts`: a page of sub-accounts. */
export const subAccountListResponse = z.object({
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  items: z.array(
    subAccountRowSchema.extend({
      /** A billed sub-account's period so far in cents (decimal string), estimated at the prices in force; null when not billed. */
      periodAmount: z.object({ cents: z.string(), currency: z.string() }).nullable(),
    }),
  ),
  /** With `status=no_card` only: how fresh the stored cards behind the filter are, how many are still being checked. */
  cardCheck: cardCheckNote.optional(),
});
