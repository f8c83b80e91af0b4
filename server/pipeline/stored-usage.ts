/**
 * The usage of stored inbox events, derived for a processing batch: the drafts a source stored with its event
 * (usage API, workflow action, phone numbers), or — for a HighLevel webhook — the normalised usage of its payload
 * (server/metering/normalise.ts), with the agency settings that shape it (AI senders, email billing source) read for
 * the whole batch in one query inside the processing transaction.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Transaction } from '../../models/database';
import { emailBillingSourceOf } from '../email-billing/agency-email-billing';
import { eventSchemas, isHandledEventType, type ActivityEvent } from '../highlevel/webhook-events';
import type { AiSenders } from '../metering/ai-messages';
import { draftFromJson, type StoredDraft } from '../metering/ledger-writer';
import { messageChannel, normaliseActivity, type UsageDraft } from '../metering/normalise';

/** An inbox row as the processor claims it. */
export interface InboxRow {
  id: number;
  webhookId: string;
  eventType: string;
  source: string;
  locationId: string | null;
  payload: unknown;
  usage: StoredDraft[] | null;
  receivedAt: Date;
  attempts: number;
}

/** Per row: its drafts, or why none could be derived (the row is then marked failed). */
export type DerivedUsage = Map<number, { drafts: UsageDraft[] } | { error: string }>;

/**
 * @param aiSendersFrom the senders in force for an agency's stored markers (server/ai/agency-ai-senders.ts).
 */
export function createStoredUsage(deps: { aiSendersFrom: (markers: string | null) => AiSenders }) {
  return {
    /**
     * Derives every row's usage. Never throws for one bad row: its error is returned instead.
     * @throws the database error of the settings query.
     */
    async derive(tx: Transaction, rows: InboxRow[]): Promise<DerivedUsage> {
      const webhookLocations = [...new Set(rows.filter((r) => r.usage === null && r.locationId).map((r) => r.locationId!))];
      const settings = await agencySettings(tx, webhookLocations);
      const derived: DerivedUsage = new Map();
      for (const row of rows) {
        try {
          if (row.usage !== null) {
            derived.set(row.id, { drafts: row.usage.map(draftFromJson) });
            continue;
          }
          const setting = row.locationId ? settings.get(row.locationId) : undefined;
          derived.set(row.id, { drafts: webhookUsage(row, setting?.markers ?? null, setting?.emailBillingSource ?? null, deps.aiSendersFrom) });
        } catch (err) {
          derived.set(row.id, { error: err instanceof Error ? err.message : String(err) });
        }
      }
      return derived;
    },
  };
}

/** The stored-usage deriver (see `createStoredUsage`). */
export type StoredUsage = ReturnType<typeof createStoredUsage>;

/**
 * A stored webhook's usage: its payload passed its schema at intake; parsed again here (schemas are pure).
 * @throws Error when the stored payload no longer matches its schema (kept on the row as its error).
 */
function webhookUsage(row: InboxRow, markers: string | null, emailSource: string | null, aiSendersFrom: (m: string | null) => AiSenders): UsageDraft[] {
  if (!isHandledEventType(row.eventType)) return [];
  const parsed = eventSchemas[row.eventType].safeParse(row.payload);
  if (!parsed.success) throw new Error(`the stored ${row.eventType} no longer matches its schema: ${parsed.error.issues[0]?.message ?? ''}`);
  const event = parsed.data as ActivityEvent;
  const aiSenders = event.type === 'OutboundMessage' ? aiSendersFrom(markers) : undefined;
  const emailBillingSource = isEmailUsage(event) ? emailBillingSourceOf(emailSource) : undefined;
  return normaliseActivity(event, row.receivedAt, { aiSenders, emailBillingSource });
}

/** Email usage depends on the agency's email billing source. */
function isEmailUsage(event: ActivityEvent): boolean {
  if (event.type === 'LCEmailStats') return true;
  return (event.type === 'InboundMessage' || event.type === 'OutboundMessage') && messageChannel(event) === 'email';
}

/** Per sub-account: its agency's AI-sender markers and email billing source (absent for unknown sub-accounts). */
async function agencySettings(tx: Transaction, locationIds: string[]) {
  if (locationIds.length === 0) return new Map<string, { markers: string | null; emailBillingSource: string | null }>();
  const rows = await selectRows<{ locationId: string; markers: string | null; emailBillingSource: string | null }>(
    tx,
    sql`select s.location_id as "locationId", a.ai_message_senders as markers, a.email_billing_source as "emailBillingSource"
        from sub_accounts s join agencies a on a.company_id = s.company_id
        where s.location_id in (select jsonb_array_elements_text(${JSON.stringify(locationIds)}::jsonb))`,
  );
  return new Map(rows.map((r) => [r.locationId, r]));
}
