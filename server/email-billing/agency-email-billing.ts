/**
 * The agency's choice of billable email source (server/metering/email-billing.ts explains the two and the default),
 * stored as `agencies.email_billing_source`.
 *
 * The intake asks for a sub-account's source on every email and LCEmailStats delivery, so answers are cached in this
 * process for `ttlMs` (default 30 s): a change made here clears this process's cache at once; other replicas pick it
 * up within the TTL (as the AI senders do: server/ai/agency-ai-senders.ts).
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import { notFound } from '../http/errors';
import { DEFAULT_EMAIL_BILLING_SOURCE, EMAIL_BILLING_SOURCES, type EmailBillingSource } from '../metering/email-billing';

/** At most this many sub-accounts' answers are cached; past it the cache starts again empty. */
const MAX_CACHED = 10_000;

/** What the settings API shows: the source in force and the deployment's default. */
export interface EmailBillingSetting {
  source: EmailBillingSource;
  default: EmailBillingSource;
}

/** The email billing source a stored `agencies.email_billing_source` names; the default for null or an unknown value. */
export function emailBillingSourceOf(value: string | null | undefined): EmailBillingSource {
  return (EMAIL_BILLING_SOURCES as readonly string[]).includes(value ?? '') ? (value as EmailBillingSource) : DEFAULT_EMAIL_BILLING_SOURCE;
}

/** @param deps.ttlMs how long a sub-account's answer is cached, milliseconds. */
export function createAgencyEmailBilling(deps: { db: Database; ttlMs?: number; now?: () => number }) {
  const ttlMs = deps.ttlMs ?? 30_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { source: EmailBillingSource; until: number }>();
  const known = emailBillingSourceOf;

  return {
    /**
     * The source in force for a sub-account's agency; the default for a sub-account Meterbridge does not know.
     * @throws the database error.
     */
    async forLocation(locationId: string): Promise<EmailBillingSource> {
      const hit = cache.get(locationId);
      if (hit && hit.until > now()) return hit.source;
      const [row] = await selectRows<{ source: string }>(
        deps.db,
        sql`select a.email_billing_source as source from sub_accounts s join agencies a on a.company_id = s.company_id
            where s.location_id = ${locationId}`,
      );
      const source = known(row?.source);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(locationId, { source, until: now() + ttlMs });
      return source;
    },

    /** @throws AppError 404 when the agency is unknown. */
    async get(companyId: string): Promise<EmailBillingSetting> {
      const [row] = await selectRows<{ source: string }>(deps.db, sql`select email_billing_source as source from agencies where company_id = ${companyId}`);
      if (!row) throw notFound(`No agency ${companyId}.`);
      return { source: known(row.source), default: DEFAULT_EMAIL_BILLING_SOURCE };
    },

    /**
     * Sets the agency's source; from then on its other source's emails are recorded with quantity 0.
     * @throws AppError 404 when the agency is unknown.
     */
    async set(companyId: string, source: EmailBillingSource): Promise<EmailBillingSetting> {
      const rows = await selectRows<{ source: string }>(
        deps.db,
        sql`update agencies set email_billing_source = ${source}, updated_at = now() where company_id = ${companyId}
            returning email_billing_source as source`,
      );
      if (rows.length === 0) throw notFound(`No agency ${companyId}.`);
      cache.clear();
      return { source, default: DEFAULT_EMAIL_BILLING_SOURCE };
    },
  };
}

/** The agency email billing use case (see `createAgencyEmailBilling`). */
export type AgencyEmailBilling = ReturnType<typeof createAgencyEmailBilling>;
