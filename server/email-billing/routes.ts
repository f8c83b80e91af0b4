/**
 * The email part of the settings API (agency users): which source bills the agency's email — conversation emails
 * sent through LC Email, or LCEmailStats delivered events (server/metering/email-billing.ts, README "What is billed").
 */
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { EMAIL_BILLING_SOURCES } from '../metering/email-billing';
import type { AgencyEmailBilling } from './agency-email-billing';

const source = z.enum(EMAIL_BILLING_SOURCES);

/** `PUT` body. */
export const emailBillingBody = z.object({
  source: source.describe('conversations: conversation emails sent through LC Email; lc_email_stats: LCEmailStats delivered events (campaigns included)'),
});
/** `GET`/`PUT` answer: the source in force and the default. */
export const emailBillingResponse = z.object({ source, default: source });

/** Every email-billing route. */
export function emailBillingRoutes(deps: { emailBilling: AgencyEmailBilling }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/email-billing', tag: 'Defaults', access: 'agency',
      summary: 'Which source bills the agency’s email (the other is recorded, not billed), and the default',
      response: emailBillingResponse,
      handler: ({ caller }) => deps.emailBilling.get(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/email-billing', tag: 'Defaults', access: 'agency',
      summary: 'Bill email from conversation emails sent through LC Email, or from LCEmailStats delivered events; never both',
      body: emailBillingBody, response: emailBillingResponse,
      handler: ({ caller, body }) => deps.emailBilling.set(caller!.companyId, body.source),
    }),
  ];
}
