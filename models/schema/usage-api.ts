/**
 * Agency API keys and custom metrics for the usage API. Part of the Drizzle schema (models/schema.ts re-exports
 * every part).
 */
import { bigserial, index, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { agencies } from './tenancy';

/**
 * An agency API key for `POST /api/v1/usage`. The key is shown once at creation; only its SHA-256 (hex) is
 * stored — keys are 32 random bytes, so a fast hash is as safe as a slow one. `prefix` is the first characters
 * of the key, kept to tell keys apart in lists. A revoked key (`revokedAt` set) is refused.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('api_keys_hash_key').on(t.keyHash), index('api_keys_company_idx').on(t.companyId)],
);

/**
 * A metric an agency defines for the usage API (e.g. `vapi_minutes`), billable by rules like the built-in ones.
 * `key` is the metric name (lower snake case, distinct from every built-in metric); `unit` names what it counts.
 */
export const customMetrics = pgTable(
  'custom_metrics',
  {
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    key: text('key').notNull(),
    label: text('label').notNull(),
    unit: text('unit').notNull(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.companyId, t.key] })],
);
