/**
 * The email part of the settings API (agency users): which source bills the agency's email — conversation emails
 * sent through LC Email, or LCEmailStats delivered events (server/metering/email-billing.ts, README "What is billed").
 */
import type { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import { assertSameType } from '../http/same-type';
import type { EmailBillingSource } from '../metering/email-billing';
import type { AgencyEmailBilling } from './agency-email-billing';
import { emailBillingBody, emailBillingResponse, type emailBillingSource } from './schemas';

// The schema spells the sources out (it imports only zod); they must stay metering's.
assertSameType<z.infer<typeof emailBillingSource>, EmailBillingSource>(true);

/** Every email-billing route. */
export function emailBillingRoutes(deps: { emailBilling: AgencyEmailBilling }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/email-billing', tag: 'Defaults', access: 'agency',
      summary: 'Which source bills the agency’s email (the other is recorded, not billed), and the default',
      response: emailBillingResponse, errors: ['not_found'],
      handler: ({ caller }) => deps.emailBilling.get(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/email-billing', tag: 'Defaults', access: 'agency',
      summary: 'Bill email from conversation emails sent through LC Email, or from LCEmailStats delivered events; never both',
      body: emailBillingBody, response: emailBillingResponse, errors: ['not_found'],
      handler: ({ caller, body }) => deps.emailBilling.set(caller!.companyId, body.source),
    }),
  ];
}
