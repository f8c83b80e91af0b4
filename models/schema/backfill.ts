/**
 * Backfill jobs: imports of a sub-account's HighLevel history. Part of the Drizzle schema (models/schema.ts re-
 * exports every part).
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agencies, subAccounts } from './tenancy';

/**
 * A backfill: import one sub-account's past messages (`channels` of SMS, Call, Email, WhatsApp) between
 * `startAt` and `endAt` from HighLevel's message export, page by page. `cursor` is the export's next-page cursor
 * (null before the first page); counters show progress. Imported usage is held out of billing (`counted`
 * false on its usage records) unless `bill` is true or the agency later asks (`billedAt`).
 * `lockedUntil` is the runner's lease, so a crashed runner's job is taken up again from its cursor.
 */
export const backfillJobs = pgTable(
  'backfill_jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    locationId: text('location_id')
      .notNull()
      .references(() => subAccounts.locationId),
    channels: jsonb('channels').$type<string[]>().notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    bill: boolean('bill').notNull().default(false),
    status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] }).notNull().default('queued'),
    cursor: text('cursor'),
    pages: integer('pages').notNull().default(0),
    messagesSeen: integer('messages_seen').notNull().default(0),
    messagesImported: integer('messages_imported').notNull().default(0),
    messagesDuplicate: integer('messages_duplicate').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    billedAt: timestamp('billed_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('backfill_jobs_location_idx').on(t.locationId, t.createdAt),
    index('backfill_jobs_due_idx').on(t.createdAt).where(sql`${t.status} in ('queued', 'running')`),
    check('backfill_jobs_range', sql`${t.startAt} < ${t.endAt}`),
  ],
);
