/**
 * The suspension API's contract, shared with the UI (ui/src/api-types-suspension.ts takes its types with
 * `import type` + `z.infer`). Imports zod only. Times are ISO 8601 UTC strings.
 */
import { z } from 'zod';

/** The sub-account in the path. */
export const locationIdParam = z.object({ locationId: z.string().min(1).max(100) });

/** The agency's policy: what happens when a client does not pay (server/suspension/suspension.ts). */
export const suspensionSettingsRequest = z.object({
  /** `off`: nothing; `stop_billing`: usage is held, not sent to Stripe; `stop_billing_and_pause`: also paused in HighLevel. */
  policy: z.enum(['off', 'stop_billing', 'stop_billing_and_pause']),
  /** Failed payment attempts of one invoice (Stripe's `attempt_count`) that suspend the sub-account, 1–10. */
  afterAttempts: z.number().int().min(1).max(10),
});

/** The policy as stored, with the HighLevel grant's scope check. */
export const suspensionSettingsResponse = suspensionSettingsRequest.extend({
  /**
   * Whether the agency's HighLevel grant (its Company installation) carries `saas/company.write`, the scope the
   * pause call needs; false also when the app is installed in sub-accounts only (no agency token).
   */
  highLevelPauseScope: z.boolean(),
});

/** One sub-account's suspension (the current one, or the last one when it ended). */
export const suspensionSchema = z.object({
  locationId: z.string(),
  /** In force: usage is held, not sent to Stripe. */
  active: z.boolean(),
  trigger: z.enum(['payment_failed', 'subscription_canceled']),
  /** What happened, in words: "Suspended for non-payment since …". */
  summary: z.string(),
  suspendedAt: z.string(),
  invoiceId: z.string().nullable(),
  /** Stripe's hosted invoice page, where the client pays. */
  hostedInvoiceUrl: z.string().nullable(),
  attemptCount: z.number().int().nullable(),
  highLevel: z.object({
    /** The policy asked for a pause in HighLevel. */
    requested: z.boolean(),
    state: z.enum(['none', 'paused', 'pause_failed', 'resumed', 'resume_failed']),
    /** HighLevel's message when the pause or the resume failed. */
    error: z.string().nullable(),
    at: z.string().nullable(),
  }),
  resumedAt: z.string().nullable(),
  resumedBy: z.enum(['invoice_paid', 'manual']).nullable(),
});

/** `GET /api/sub-accounts/:locationId/suspension`. */
export const subAccountSuspensionResponse = z.object({
  locationId: z.string(),
  policy: suspensionSettingsRequest.shape.policy,
  suspension: suspensionSchema.nullable(),
});

/** `GET /api/suspensions`: the agency's sub-accounts suspended now, or whose HighLevel call failed. */
export const suspensionListResponse = z.object({ items: z.array(suspensionSchema) });
