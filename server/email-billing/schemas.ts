/**
 * Request and response schemas of the email-billing routes (server/email-billing/routes.ts). Zod only: the page
 * takes its types from here (ui/src/api-types.ts).
 */
import { z } from 'zod';

/** Where email is billed from (server/metering/email-billing.ts `EMAIL_BILLING_SOURCES`). */
export const emailBillingSource = z.enum(['conversations', 'lc_email_stats']);
const source = emailBillingSource;

/** `PUT` body. */
export const emailBillingBody = z.object({
  source: source.describe('conversations: conversation emails sent through LC Email; lc_email_stats: LCEmailStats delivered events (campaigns included)'),
});
/** `GET`/`PUT` answer: the source in force and the default. */
export const emailBillingResponse = z.object({ source, default: source });

