/**
 * Phone numbers billed by the month: the `phone-numbers` job asks HighLevel for each installed sub-account's active
 * numbers (active-numbers.ts) and records `phone_numbers` = 1 for every number not yet recorded in the current UTC
 * calendar month, through the inbox every batched source uses (server/pipeline/inbox.ts), so the same
 * rules, counters, switches and meter reports apply as for any usage.
 *
 * The rule (README, "Phone numbers"): a number is billed once for each UTC calendar month in which the job sees it
 * active — a number added mid-month is billed for that month when the job first sees it; a number released
 * mid-month was already billed for the month and is not refunded; a number bought and released between two runs
 * is never seen, so never billed. "Once" is held by the delivery key `phone-number:<locationId>:<sid>:<YYYY-MM>`
 * (`activity_events.webhook_id`, unique): running the job again in the month, on any replica, records nothing more.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { selectRows, type Database } from '../../models/database';
import type { HighLevelApiClient } from '../highlevel/api-client';
import { storeBatch, type BatchActivity } from '../pipeline/inbox';
import { METRIC_UNITS } from '../metering/metrics';
import { listActiveNumbers, type ActiveNumber } from './active-numbers';

/** `activity_events.event_type` and `usage_records.source_type` of a number seen active in a month. */
export const PHONE_NUMBER_EVENT_TYPE = 'PhoneNumberActive';
/** The OAuth scope `GET /phone-system/numbers/location/{locationId}` needs (apps/phone-system.json). */
export const PHONE_NUMBERS_SCOPE = 'phonenumbers.read';

/** "2026-12" for any instant in December 2026, UTC. */
export function billingMonth(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The delivery key of one number in one month: unique, so a month is recorded once per number. */
export function phoneNumberMonthKey(locationId: string, sid: string, month: string): string {
  return `phone-number:${locationId}:${sid}:${month}`;
}

/** What one run did. `recorded`: numbers recorded for the month now; `known`: already recorded this month. */
export interface PhoneNumberRunSummary {
  month: string;
  subAccounts: number;
  numbers: number;
  recorded: number;
  known: number;
  /** Sub-accounts whose numbers could not be read this run (logged; the next run tries again). */
  failed: number;
}

/** Builds the use case. `now` is injectable for tests. */
export function createPhoneNumberMonths(deps: {
  db: Database;
  api: HighLevelApiClient;
  logger: Logger;
  now?: () => Date;
  /** Called after a run's commits created meter reports, e.g. to nudge the reporter. */
  onStored?: () => void;
}) {
  const now = deps.now ?? (() => new Date());

  /** Records one sub-account's numbers for `month`; returns how many were new. */
  async function recordMonth(sub: CountedSubAccount, numbers: ActiveNumber[], at: Date, month: string) {
    const items = numbers.map((n) => toActivity(sub, n, at, month));
    const outcomes = await storeBatch(deps.db, items);
    const stored = outcomes.filter((i) => i.status === 'recorded').length;
    if (stored > 0) deps.onStored?.();
    return stored;
  }

  return {
    /**
     * One pass over every installed sub-account whose grant carries `phonenumbers.read`. A sub-account that fails
     * (HighLevel error, grant needing reinstall) is logged and counted in `failed`; the others go on.
     * @throws the database error when the sub-accounts cannot be listed.
     */
    async runOnce(): Promise<PhoneNumberRunSummary> {
      const at = now();
      const month = billingMonth(at);
      const subs = await listCountedSubAccounts(deps.db);
      const summary: PhoneNumberRunSummary = { month, subAccounts: subs.length, numbers: 0, recorded: 0, known: 0, failed: 0 };
      for (const sub of subs) {
        try {
          const numbers = await listActiveNumbers(deps.api, sub.locationId);
          const recorded = await recordMonth(sub, numbers, at, month);
          summary.numbers += numbers.length;
          summary.recorded += recorded;
          summary.known += numbers.length - recorded;
        } catch (err) {
          summary.failed += 1;
          deps.logger.warn({ locationId: sub.locationId, reason: (err as Error).message }, 'phone numbers of a sub-account could not be read');
        }
      }
      if (summary.recorded > 0 || summary.failed > 0) deps.logger.info(summary, 'phone numbers counted');
      return summary;
    },
  };
}

/** The phone-number use case (see `createPhoneNumberMonths`). */
export type PhoneNumberMonths = ReturnType<typeof createPhoneNumberMonths>;

interface CountedSubAccount {
  locationId: string;
  companyId: string;
}

/**
 * Installed sub-accounts whose grant allows reading numbers: the sub-account's own active Location grant when it has
 * one (its scopes decide), else its agency's active Company grant (a Location token is minted from it). A grant from
 * before the app asked for `phonenumbers.read` is skipped rather than answered 401 every run.
 */
async function listCountedSubAccounts(db: Database): Promise<CountedSubAccount[]> {
  const hasScope = (scopes: string) => sql`${PHONE_NUMBERS_SCOPE} = any(regexp_split_to_array(${sql.raw(scopes)}, '[\\s,]+'))`;
  return selectRows<CountedSubAccount>(
    db,
    sql`select s.location_id as "locationId", s.company_id as "companyId"
        from sub_accounts s
        left join installations l on l.user_type = 'Location' and l.location_id = s.location_id and l.status = 'active'
        left join installations c on c.user_type = 'Company' and c.company_id = s.company_id and c.status = 'active'
        where s.status = 'active'
          and ((l.id is not null and ${hasScope('l.scopes')}) or (l.id is null and c.id is not null and ${hasScope('c.scopes')}))
        order by s.location_id`,
  );
}

function toActivity(sub: CountedSubAccount, n: ActiveNumber, at: Date, month: string): BatchActivity {
  return {
    webhookId: phoneNumberMonthKey(sub.locationId, n.sid, month),
    eventType: PHONE_NUMBER_EVENT_TYPE,
    source: 'phone_numbers',
    companyId: sub.companyId,
    locationId: sub.locationId,
    payload: { month, sid: n.sid, phoneNumber: n.phoneNumber, type: n.type, countryCode: n.countryCode, dateAdded: n.dateAdded },
    occurredAt: at,
    usage: [
      {
        locationId: sub.locationId,
        metric: 'phone_numbers',
        quantity: '1',
        unit: METRIC_UNITS.phone_numbers,
        direction: null,
        occurredAt: at,
        sourceType: PHONE_NUMBER_EVENT_TYPE,
        sourceId: n.sid,
        attributes: { month, phoneNumber: n.phoneNumber },
      },
    ],
  };
}
