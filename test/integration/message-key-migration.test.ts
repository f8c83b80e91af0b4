/**
 * Migration 0011 gives rows stored before it their message key in SQL. That derivation must equal the one the app
 * computes (server/metering/message-key.ts), or a webhook stored before the migration would not match its message
 * in a later backfill. The data-fix statement is read from the migration file and run again on rows whose key was
 * cleared.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_FOLDER, selectRows } from '../../models/database';
import { backfillDeliveryKey } from '../../server/metering/backfilled-usage';
import { messageKey } from '../../server/metering/message-key';
import { officialExample } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

/** The hand-written UPDATE of migration 0011. */
function dataFixStatement(): string {
  const file = readdirSync(MIGRATIONS_FOLDER).find((f) => f.endsWith('_hl_email_source_message_key.sql'))!;
  const statements = readFileSync(path.join(MIGRATIONS_FOLDER, file), 'utf8').split('--> statement-breakpoint');
  const update = statements.find((s) => s.includes('UPDATE usage_records u'))!;
  return update.slice(update.indexOf('UPDATE usage_records u'));
}

describe('migration 0011 data fix', () => {
  it('when rows stored before the migration are keyed in SQL, then each key equals the app’s, for webhooks and backfilled messages', async () => {
    const dates = ['2021-04-21T11:31:45.750Z', '2024-03-27T20:13:49+02:00', '2024-03-27T18:13:49Z', '2024-05-08T12:04:55.8Z'];
    const webhookIds: string[] = [];
    for (const [i, dateAdded] of dates.entries()) {
      const res = await t.postSigned({ ...officialExample('outbound-sms'), conversationId: `convMig${i}`, dateAdded, webhookId: `mig-${i}` }).expect(200);
      webhookIds.push(res.body.webhookId);
    }
    // A backfilled message, stored as a backfill stores it (payload.message is the exported message).
    const [event] = await selectRows<{ id: number }>(
      t.database.db,
      sql`insert into activity_events (webhook_id, event_type, status, source, location_id, payload)
          values (${backfillDeliveryKey('locMig', 'msgMig')}, 'OutboundMessage', 'processed', 'backfill', 'locMig',
                  ${JSON.stringify({ backfillJobId: 1, message: { id: 'msgMig', conversationId: 'convMigB', dateAdded: '2024-01-12T12:59:04.045Z' } })}::jsonb)
          returning id`,
    );
    await t.database.db.execute(
      sql`insert into usage_records (activity_event_id, location_id, metric, quantity, unit, direction, occurred_at, source_type, source_id)
          values (${event!.id}, 'locMig', 'sms', 1, 'message', 'outbound', now(), 'OutboundMessage', 'msgMig')`,
    );
    await t.database.db.execute(sql`update usage_records set message_key = null`);
    await t.database.db.execute(sql.raw(dataFixStatement()));

    const rows = await selectRows<{ webhookId: string; key: string | null }>(
      t.database.db,
      sql`select e.webhook_id as "webhookId", u.message_key as key from usage_records u join activity_events e on e.id = u.activity_event_id
          where e.webhook_id in (${sql.join([...webhookIds, backfillDeliveryKey('locMig', 'msgMig')].map((w) => sql`${w}`), sql`, `)})`,
    );
    const keyOf = (webhookId: string) => [...new Set(rows.filter((r) => r.webhookId === webhookId).map((r) => r.key))];
    dates.forEach((dateAdded, i) => expect(keyOf(webhookIds[i]!)).toEqual([messageKey(`convMig${i}`, dateAdded)]));
    expect(keyOf(backfillDeliveryKey('locMig', 'msgMig'))).toEqual(['convMigB@2024-01-12T12:59:04.045Z']);
  });
});
