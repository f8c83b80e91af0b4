/**
 * The money routes, declared as data (server/http/api-route.ts) so the authorization matrix and the OpenAPI document
 * cover them; all are reads for the agency's users: money per month, per sub-account for a month, the "agency cost
 * vs rebilled" CSV, the Overview's needs-attention list, and usage in money for the usage dashboard.
 */
import { z } from 'zod';
import type { Database } from '../../models/database';
import { defineRoute, defineStreamRoute, type ApiRoute } from '../http/api-route';
import { notFound } from '../http/errors';
import { resolveRange } from '../reporting/routes';
import { pickGranularity, type Granularity } from '../reporting/usage-queries';
import { findAgency, findSubAccount } from '../tenancy/accounts-repository';
import type { Attention } from './attention';
import type { Money } from './money';
import { monthOf } from './months';
import * as s from './schemas';
import { usageAmounts } from './usage-amounts';

export function moneyRoutes(deps: { db: Database; money: Money; attention: Attention }): ApiRoute<any, any, any, any>[] {
  const { db, money, attention } = deps;
  return [
    defineRoute({
      method: 'get', path: '/api/money', tag: 'Money', access: 'agency',
      summary: 'Per UTC month, agency-wide: billed (Stripe invoices and the upcoming invoice, excluding tax), HighLevel’s cost (usage × base costs) and the margin, in cents; and the next invoices’ total',
      query: s.monthsQuery, response: s.agencyMoneyResponse,
      handler: ({ caller, query }) => money.agencyMonths(caller!.companyId, query.months),
    }),
    defineRoute({
      method: 'get', path: '/api/money/sub-accounts', tag: 'Money', access: 'agency',
      summary: 'One UTC month per sub-account: billed, HighLevel’s cost and the margin, in cents, with the month’s totals',
      query: s.monthQuery, response: s.subAccountMoneyResponse,
      handler: ({ caller, query }) => money.subAccountMonth(caller!.companyId, query.month ?? monthOf(new Date())),
    }),
    defineStreamRoute({
      method: 'get', path: '/api/money/export.csv', tag: 'Money', access: 'agency', contentType: 'text/csv',
      summary: 'The “agency cost vs rebilled” report: per UTC month and sub-account, billed, HighLevel’s cost and the margin in cents, and each month’s total',
      query: s.monthsQuery,
      response: z.string().describe('text/csv: month,sub_account_id,sub_account_name,currency,invoiced_cents,upcoming_cents,billed_cents,highlevel_cost_cents,margin_cents'),
      handler: async ({ caller, query }) => ({ filename: `meterbridge-cost-vs-rebilled-${monthOf(new Date())}.csv`, chunks: money.csv(caller!.companyId, query.months) }),
    }),
    defineRoute({
      method: 'get', path: '/api/overview/attention', tag: 'Money', access: 'agency',
      summary: 'What needs attention: sub-accounts not billing, billed without a card, with a failed payment, rejected meter events, reconciliation drift or needing a reinstall; each with the filtered list’s path',
      response: s.attentionResponse,
      handler: ({ caller }) => attention.needsAttention(caller!.companyId),
    }),
    defineRoute({
      method: 'get', path: '/api/usage/amounts', tag: 'Usage', access: 'agency',
      summary: 'Usage in money over a date range: per metric the billed units at the prices in force and HighLevel’s cost, per bucket the amounts (cents); optionally one sub-account',
      query: s.usageAmountsQuery, response: s.usageAmountsResponse,
      handler: async ({ caller, query }) => {
        const range = resolveRange(query);
        const companyId = caller!.companyId;
        if (query.locationId && (await findSubAccount(db, query.locationId))?.companyId !== companyId) throw notFound(`No sub-account ${query.locationId}.`);
        const currency = (await findAgency(db, companyId))?.currency ?? 'usd';
        return usageAmounts(db, { companyId, locationId: query.locationId }, range, (query.granularity as Granularity | undefined) ?? pickGranularity(range), currency);
      },
    }),
  ];
}
