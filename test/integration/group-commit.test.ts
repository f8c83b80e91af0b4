/**
 * Group commit (server/pipeline/group-commit.ts): webhook deliveries that arrive together are stored in the inbox by
 * one insert, and each is still stored, deduplicated and — by the inbox processor — counted exactly as on its own.
 */
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { createGroupCommit } from '../../server/pipeline/group-commit';
import type { NewActivityEvent } from '../../server/metering/ledger-writer';
import { findCounter } from '../../server/metering/rules-repository';
import { setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';
import { until } from '../support/until';

const COMPANY = 'GroupCommitAgency1';
const LOCATIONS = ['gcLocationA', 'gcLocationB', 'gcLocationC'];

let t: TestService;
beforeAll(async () => {
  // One intake transaction at a time (PGlite's default; a server's is 4), so the batches are the same on both.
  t = await startTestService({ INTAKE_WRITES_IN_FLIGHT: '1' });
  for (const [n, locationId] of LOCATIONS.entries()) {
    await setUpBilling(t.service, {
      companyId: COMPANY,
      locationId,
      customer: `cus_groupCommit${n}`,
      rules: [{ metric: 'sms', threshold: '2', direction: 'both' }],
    });
  }
});
afterAll(() => t.close());

/** An SMS for `locationId` with its own webhookId and message id, from the sms-outbound fixture. */
function sms(locationId: string, n: number): Record<string, unknown> {
  return { ...fixture('sms-outbound'), webhookId: `gc-${locationId}-${n}`, messageId: `gcMsg-${locationId}-${n}`, locationId };
}

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await selectRows<{ n: number }>(t.database.db, query);
  return row!.n;
}

/** A hand-made delivery for the writer itself; `eventType: null` makes it one the database refuses (NOT NULL). */
function delivery(webhookId: string, locationId: string, eventType: string | null): NewActivityEvent {
  const occurredAt = new Date('2026-11-20T10:00:00Z');
  return { webhookId, eventType: eventType as string, status: 'received', companyId: COMPANY, locationId, signatureScheme: 'ed25519', payload: { webhookId }, occurredAt };
}

describe('group commit of webhook deliveries', () => {
  it('when 70 signed deliveries (10 of them sent twice) arrive while the database is busy, then they are committed together and each is stored and counted once', async () => {
    for (const locationId of LOCATIONS) await t.postSigned(sms(locationId, 100)).expect(200);
    const before = t.service.groupCommit.stats();
    const bodies = Array.from({ length: 60 }, (_, n) => sms(LOCATIONS[n % 3]!, n));
    const sends = [...bodies, ...bodies.slice(0, 10)];
    // The database is busy: a transaction holds the inbox table in SHARE mode, which no insert can pass (on PGlite
    // the open transaction holds the only connection). The first write (whatever arrived in its turn of the event
    // loop) waits for it; the other deliveries wait in the queue until it is released.
    let release!: () => void;
    const busy = t.database.db.transaction(async (tx) => {
      await tx.execute(sql`lock table activity_events in share mode`);
      await new Promise<void>((resolve) => (release = resolve));
    });
    await until(() => release !== undefined);
    const answering = Promise.all(sends.map((body) => t.postSignedOnly(body).then((res) => res)));
    try {
      await until(() => {
        const { waiting, writing } = t.service.groupCommit.stats();
        return writing > 0 && waiting + writing === 70;
      });
    } finally {
      release();
      await busy;
    }
    const answers = await answering;

    expect(answers.map((a) => a.status)).toEqual(sends.map(() => 200));
    const statuses = answers.map((a) => a.body.status as string);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(60);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(10);

    // The first write (one delivery, or the few that arrived with it), then 64 together and the rest together.
    const after = t.service.groupCommit.stats();
    expect(after.calls - before.calls).toBeLessThanOrEqual(3);
    expect(after.deliveries - before.deliveries).toBeGreaterThanOrEqual(69);
    expect(after.largestBatch).toBe(64);
    expect(after.fallbacks).toBe(before.fallbacks);
    await t.drain();

    expect(await count(sql`select count(*)::int as n from activity_events where webhook_id like 'gc-gcLocation%'`)).toBe(63);
    expect(await count(sql`select count(*)::int as n from usage_records where source_id like 'gcMsg-%' and metric = 'sms'`)).toBe(63);
    for (const locationId of LOCATIONS) {
      // 21 SMS each under "every 2 SMS = 1 unit": 10 units and 1 SMS carried, whatever the batches were.
      expect(await findCounter(t.database.db, locationId, 'sms')).toEqual({ total: '21.000000', billedUnits: 10 });
      expect(await count(sql`select coalesce(sum(units), 0)::int as n from meter_reports where location_id = ${locationId} and metric = 'sms'`)).toBe(10);
    }
  });

  it('when a batch holds a delivery the database refuses, then the others are stored and only that one fails', async () => {
    const writer = createGroupCommit(t.database.db, { maxInFlight: 1 });
    // Recorded in one turn of the event loop: the four go together.
    const settled = await Promise.allSettled([
      writer.record(delivery('gc-fallback-1', 'gcLocationA', 'OutboundMessage')),
      writer.record(delivery('gc-fallback-2', 'gcLocationA', 'OutboundMessage')),
      writer.record(delivery('gc-fallback-3', 'gcLocationB', null)),
      writer.record(delivery('gc-fallback-4', 'gcLocationC', 'OutboundMessage')),
    ]);

    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const refused = (settled[2] as PromiseRejectedResult).reason as Error;
    expect(String(refused.cause ?? refused)).toMatch(/null value in column "event_type"/);
    expect(writer.stats()).toMatchObject({ calls: 1, deliveries: 4, fallbacks: 1 });
    const stored = await selectRows<{ webhookId: string }>(
      t.database.db,
      sql`select webhook_id as "webhookId" from activity_events where webhook_id like 'gc-fallback-%' order by 1`,
    );
    expect(stored.map((r) => r.webhookId)).toEqual(['gc-fallback-1', 'gc-fallback-2', 'gc-fallback-4']);
  });

  it('when deliveries carry a message a backfill already imported, then its delivery is stored but the processor does not count the message again', async () => {
    // What a backfill leaves for an imported message: an event under its backfill delivery key (server/backfill).
    await t.database.db.execute(
      sql`insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, payload)
          values ('backfill:gcLocationC:gc-backfilled-2-msg', 'OutboundMessage', 'processed', 'backfill', ${COMPANY}, 'gcLocationC', '{}')`,
    );
    const bodies = [1, 2, 3].map((n) => ({ ...sms('gcLocationC', 200 + n), webhookId: `gc-backfilled-${n}`, messageId: `gc-backfilled-${n}-msg` }));
    const answers = await Promise.all(bodies.map((body) => t.postSigned(body).expect(200)));

    expect(answers.map((a) => a.body.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await count(sql`select count(*)::int as n from usage_records where source_id = 'gc-backfilled-2-msg'`)).toBe(0);
    expect(await count(sql`select count(*)::int as n from usage_records where source_id in ('gc-backfilled-1-msg', 'gc-backfilled-3-msg')`)).toBe(4);
    expect(await count(sql`select count(*)::int as n from activity_events where webhook_id like 'gc-backfilled-%' and status = 'processed'`)).toBe(3);
  });
});
