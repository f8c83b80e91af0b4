/**
 * The double-rebilling guard. HighLevel can rebill its own products (LC Phone, LC Email, WhatsApp, Conversation AI,
 * premium workflow actions, …) to a sub-account in SaaS mode, with a markup; an agency that bills the same usage
 * through Meterbridge as well charges its client twice.
 *
 * What HighLevel lets an app read (SaaS API, GoHighLevel/highlevel-api-docs apps/saas-api.json at 0af86a4, and the
 * page marketplace.gohighlevel.com/docs/ghl/saas-api/get-location-subscription):
 * - the rebilling settings themselves: NOT readable. The API only writes them (`POST /saas/update-rebilling/
 *   {companyId}` with `product` ∈ Phone, Email, whatsApp, conversationAI, workflow_premium_actions, … and
 *   `config: { optIn, enabled, markup }`); no endpoint returns them, with any grant;
 * - whether a sub-account is in SaaS mode: `GET /saas/get-saas-subscription/{locationId}?companyId=` (Version
 *   2021-04-15), an Agency (Company) token with scope `saas/company.read` — the SaaS API is an Agency Pro feature —
 *   answering `LocationSubscriptionResponseDto` `{ locationId, companyId, isSaaSV2, saasMode, subscriptionId?,
 *   customerId?, saasPlanId?, subscriptionStatus?, … }`. A sub-account-only install has no Company token: nothing can
 *   be read then.
 * So the pricing grid warns from what can be read: for each metric HighLevel also rebills, how many of the agency's
 * sub-accounts are in SaaS mode (where HighLevel's rebilling of that product may be on).
 */
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { selectRows, type Database } from '../../models/database';
import { highLevelSaasStatus } from '../../models/schema';
import { HighLevelApiError, type HighLevelApiClient } from './api-client';
import { HIGHLEVEL_ENDPOINTS } from './endpoints';

/** The OAuth scope the read needs (Agency token). */
export const SAAS_READ_SCOPE = 'saas/company.read';

/** Meterbridge metric → the HighLevel rebilling product (UpdateRebillingDto `product`) that bills the same usage. */
export const HIGHLEVEL_REBILLED_PRODUCT: Readonly<Record<string, string>> = {
  sms: 'Phone',
  sms_segments: 'Phone',
  mms: 'Phone',
  call_minutes: 'Phone',
  phone_numbers: 'Phone',
  email: 'Email',
  whatsapp: 'whatsApp',
  ai_messages: 'conversationAI',
  ai_tokens: 'conversationAI',
};

/**
 * Whether HighLevel's answer puts the sub-account in SaaS mode. HighLevel documents `saasMode` by one example
 * ("saasV2") and no list of values, so: a SaaS plan or subscription is named, or `saasMode` is set to anything but
 * a "not activated" value.
 */
export function isInSaasMode(answer: { saasMode?: string | null; saasPlanId?: string | null; subscriptionId?: string | null }): boolean {
  if (answer.saasPlanId || answer.subscriptionId) return true;
  const mode = (answer.saasMode ?? '').trim();
  return mode !== '' && !/^not[_\s-]?activ/i.test(mode);
}

/** What a run did. `agencies`: agencies whose Company grant carries the scope. */
export interface SaasCheckSummary {
  agencies: number;
  checked: number;
  inSaasMode: number;
  failed: number;
}

/** Builds the check the `highlevel-saas-mode` job runs. */
export function createSaasModeCheck(deps: { db: Database; api: HighLevelApiClient; logger: Logger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function store(row: typeof highLevelSaasStatus.$inferInsert) {
    const { locationId, ...rest } = row;
    // A failed check keeps the last good reading (only `error` and `checkedAt` change).
    const set = row.error ? { error: row.error, checkedAt: row.checkedAt } : { ...rest };
    await deps.db.insert(highLevelSaasStatus).values(row).onConflictDoUpdate({ target: highLevelSaasStatus.locationId, set });
  }

  return {
    /**
     * Reads the SaaS mode of every active sub-account of every agency whose Company grant has `saas/company.read`.
     * A 401/403 (no Agency Pro plan, scope refused) ends that agency's turn; other failures are stored per
     * sub-account and retried next run.
     * @throws the database error when the agencies cannot be listed.
     */
    async runOnce(): Promise<SaasCheckSummary> {
      const summary: SaasCheckSummary = { agencies: 0, checked: 0, inSaasMode: 0, failed: 0 };
      for (const agency of await listReadableAgencies(deps.db)) {
        summary.agencies += 1;
        for (const locationId of agency.locationIds) {
          const checkedAt = now();
          try {
            const answer = await deps.api.request<Record<string, unknown>>({
              method: HIGHLEVEL_ENDPOINTS.saasSubscription.method,
              path: HIGHLEVEL_ENDPOINTS.saasSubscription.path.replace('{locationId}', encodeURIComponent(locationId)),
              params: { companyId: agency.companyId },
              version: HIGHLEVEL_ENDPOINTS.saasSubscription.version,
              auth: { companyId: agency.companyId },
            });
            const text = (key: string) => (typeof answer?.[key] === 'string' ? (answer[key] as string).slice(0, 200) : null);
            const reading = { saasMode: text('saasMode'), saasPlanId: text('saasPlanId'), subscriptionId: text('subscriptionId') };
            const inSaasMode = isInSaasMode(reading);
            await store({ locationId, companyId: agency.companyId, saasMode: reading.saasMode, saasPlanId: reading.saasPlanId, isSaasV2: answer?.isSaaSV2 === true, subscriptionStatus: text('subscriptionStatus'), inSaasMode, error: null, checkedAt });
            summary.checked += 1;
            if (inSaasMode) summary.inSaasMode += 1;
          } catch (err) {
            summary.failed += 1;
            const message = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
            await store({ locationId, companyId: agency.companyId, inSaasMode: false, error: message, checkedAt });
            deps.logger.warn({ companyId: agency.companyId, locationId, reason: message }, 'HighLevel SaaS mode could not be read');
            if (err instanceof HighLevelApiError && (err.status === 401 || err.status === 403)) break;
          }
        }
      }
      return summary;
    },
  };
}

/** The SaaS check (see `createSaasModeCheck`). */
export type SaasModeCheck = ReturnType<typeof createSaasModeCheck>;

/** What the pricing grid says about HighLevel's own rebilling for an agency. */
export interface SaasRebillingSummary {
  /** False when the agency has no active Company grant with `saas/company.read` (e.g. sub-account installs). */
  readable: boolean;
  /** Active sub-accounts whose SaaS mode was read (0 before any check), and of them, those in SaaS mode. */
  checkedSubAccounts: number;
  saasSubAccounts: number;
  lastCheckedAt: string | null;
}

/** The agency's SaaS readings, for the pricing grid. */
export async function saasRebillingSummary(db: Database, companyId: string): Promise<SaasRebillingSummary> {
  const [row] = await selectRows<{ readable: boolean; checked: number; saas: number; last: string | null }>(
    db,
    sql`select exists (select 1 from installations i where i.company_id = ${companyId} and i.user_type = 'Company' and i.status = 'active'
                         and ${SAAS_READ_SCOPE} = any(regexp_split_to_array(i.scopes, '[\\s,]+'))) as readable,
               count(st.location_id) filter (where st.error is null)::int as checked,
               count(st.location_id) filter (where st.in_saas_mode)::int as saas,
               max(st.checked_at) as last
        from sub_accounts s left join highlevel_saas_status st on st.location_id = s.location_id
        where s.company_id = ${companyId} and s.status = 'active'`,
  );
  const last = row?.last ? new Date(row.last).toISOString() : null;
  return { readable: row?.readable ?? false, checkedSubAccounts: row?.checked ?? 0, saasSubAccounts: row?.saas ?? 0, lastCheckedAt: last };
}

/**
 * The warning a metric's pricing row carries, or null: the metric is one HighLevel also rebills, and at least one
 * sub-account was read in SaaS mode.
 */
export function doubleBillingWarning(metric: string, summary: SaasRebillingSummary): string | null {
  const product = HIGHLEVEL_REBILLED_PRODUCT[metric];
  if (!product || summary.saasSubAccounts === 0) return null;
  const n = summary.saasSubAccounts;
  return (
    `${n} sub-account${n === 1 ? ' is' : 's are'} in HighLevel SaaS mode, where HighLevel can rebill "${product}" itself. ` +
    `If that rebilling is on, billing this metric here too makes the client pay twice. HighLevel's API does not let ` +
    `apps read that setting: check it in HighLevel (SaaS Configurator, rebilling).`
  );
}

async function listReadableAgencies(db: Database): Promise<Array<{ companyId: string; locationIds: string[] }>> {
  const rows = await selectRows<{ companyId: string; locationIds: string[] | null }>(
    db,
    sql`select i.company_id as "companyId",
               (select coalesce(array_agg(s.location_id order by s.location_id), '{}') from sub_accounts s
                 where s.company_id = i.company_id and s.status = 'active') as "locationIds"
        from installations i
        where i.user_type = 'Company' and i.status = 'active'
          and ${SAAS_READ_SCOPE} = any(regexp_split_to_array(i.scopes, '[\\s,]+'))
        order by i.company_id`,
  );
  return rows.map((r) => ({ companyId: r.companyId, locationIds: r.locationIds ?? [] }));
}
