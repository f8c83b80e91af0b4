/**
 * The retention job's queries on activity_events (models/schema/ledger.ts). Candidates are finished events only —
 * `status` processed or ignored — received before a cutoff and not yet marked by a redaction record; the partial
 * index `activity_events_retention_due_idx` (models/migrations/0015_retention.sql) holds exactly those rows, so a
 * scan reads what is due and nothing else. Any other status (the inbox's `received`, `failed`, or one added later)
 * is never touched: its payload may still be needed to process it.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Executor } from '../../models/database';
import { REDACTION_KEY } from './redact-payload';

/** Statuses whose processing is finished. Only these rows are ever redacted. */
export const FINISHED_STATUSES = ['processed', 'ignored'] as const;

/** A due event: its id and the stored size of its payload in bytes (`pg_column_size`, compressed when toasted). */
export interface DueEvent {
  id: number;
  storedBytes: number;
}

/** A due event's payload and what billing counted from its text (from its usage records; null when none). */
export interface EventToRedact {
  id: number;
  payload: unknown;
  smsSegments: string | null;
  encoding: string | null;
  aiTokens: string | null;
}

/** The SQL condition (table alias `e`) of an event the job may redact; it matches the partial index's predicate. */
const DUE = sql.raw(`e.status in (${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')}) and not (e.payload ? '${REDACTION_KEY}')`);

/**
 * Locks up to `limit` due events received before `cutoff`, oldest first, skipping rows another transaction holds.
 * Call inside a transaction: the locks last until it ends, so a status change cannot slip in between.
 */
export async function lockDueEvents(tx: Executor, cutoff: Date, limit: number): Promise<DueEvent[]> {
  const rows = await selectRows<{ id: string | number; storedBytes: number }>(
    tx,
    sql`select e.id, pg_column_size(e.payload)::int as "storedBytes"
        from activity_events e
        where ${DUE} and e.received_at < ${cutoff.toISOString()}::timestamptz
        order by e.received_at
        limit ${limit}
        for update of e skip locked`,
  );
  return rows.map((r) => ({ id: Number(r.id), storedBytes: r.storedBytes }));
}

/** Reads the payloads (and the counts billing took from their text) of events locked by `lockDueEvents`. */
export async function readEventsToRedact(tx: Executor, ids: number[]): Promise<EventToRedact[]> {
  if (ids.length === 0) return [];
  const rows = await selectRows<EventToRedact & { id: string | number }>(
    tx,
    sql`select e.id, e.payload,
               trim_scale(s.quantity)::text as "smsSegments", s.attributes->>'encoding' as encoding, trim_scale(t.quantity)::text as "aiTokens"
        from activity_events e
        left join usage_records s on s.activity_event_id = e.id and s.metric = 'sms_segments'
        left join usage_records t on t.activity_event_id = e.id and t.metric = 'ai_tokens'
        where e.id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::bigint)`,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Writes redacted payloads, still only on rows that are finished and unmarked (a row changed since it was read is
 * left for the next run). @returns how many rows were written.
 */
export async function writeRedactedPayloads(tx: Executor, rows: Array<{ id: number; payload: unknown }>): Promise<number> {
  if (rows.length === 0) return 0;
  const written = await selectRows<{ id: string }>(
    tx,
    sql`update activity_events e set payload = x.payload
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id bigint, payload jsonb)
        where e.id = x.id and ${DUE}
        returning e.id`,
  );
  return written.length;
}
