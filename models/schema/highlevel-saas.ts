/**
 * What HighLevel's SaaS API says about each sub-account, for the double-rebilling guard
 * (server/highlevel/saas-rebilling.ts). Part of the Drizzle schema (models/schema.ts re-exports every part).
 */
import { boolean, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { subAccounts } from './tenancy';

/**
 * The last answer of `GET /saas/get-saas-subscription/{locationId}` for a sub-account (HighLevel SaaS API,
 * `LocationSubscriptionResponseDto`): `saasMode`, `isSaaSV2`, `subscriptionStatus`, `saasPlanId` as HighLevel sent
 * them; `inSaasMode` is Meterbridge's reading of them (saas-rebilling.ts). `error` is HighLevel's message when the
 * last check failed (then the other fields are those of the last success, if any).
 */
export const highLevelSaasStatus = pgTable(
  'highlevel_saas_status',
  {
    locationId: text('location_id')
      .primaryKey()
      .references(() => subAccounts.locationId),
    companyId: text('company_id').notNull(),
    saasMode: text('saas_mode'),
    isSaasV2: boolean('is_saas_v2'),
    subscriptionStatus: text('subscription_status'),
    saasPlanId: text('saas_plan_id'),
    inSaasMode: boolean('in_saas_mode').notNull().default(false),
    error: text('error'),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('highlevel_saas_status_company_idx').on(t.companyId)],
);
