/**
 * The audit log: one row per change to an agency's billing configuration, written in the same transaction as the
 * change (server/audit/audit-log.ts), kept forever. `before`/`after` are descriptions built from allow-lists, never
 * rows: no secret (key, token, signing secret) can reach them. Part of the Drizzle schema (models/schema.ts).
 */
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agencies } from './tenancy';

export const auditEntries = pgTable(
  'audit_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /** `user`: a HighLevel user (SSO session); `stripe`: Stripe told us (a webhook); `system`: Meterbridge itself. */
    actorType: text('actor_type', { enum: ['user', 'stripe', 'system'] }).notNull(),
    /** The HighLevel user id and name, for `user`. */
    actorUserId: text('actor_user_id'),
    actorName: text('actor_name'),
    /** What happened, e.g. `stripe.connected`, `stripe.disconnected`, `stripe.deauthorized`. */
    action: text('action').notNull(),
    /** What it happened to, e.g. `stripe_connection`. */
    subject: text('subject').notNull(),
    before: jsonb('before').$type<Record<string, unknown> | null>(),
    after: jsonb('after').$type<Record<string, unknown> | null>(),
  },
  (t) => [index('audit_entries_company_time_idx').on(t.companyId, t.occurredAt), index('audit_entries_company_action_idx').on(t.companyId, t.action)],
);
