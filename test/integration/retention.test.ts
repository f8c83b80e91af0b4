/**
 * Retention of private text through the real app: deliveries arrive signed at POST /webhooks/highlevel (HighLevel's
 * own examples and our fixtures), some are aged past RETENTION_DAYS in the database, and the scheduled job
 * `retention` runs under its advisory lock (scheduler.runNow). Old finished events lose their text and keep ids,
 * lengths, hashes and counts; recent ones and unfinished inbox rows ('received', 'failed') are untouched; a second
 * run changes nothing; a replayed delivery is still recognised as a duplicate.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { REDACTION_KEY, type Redaction } from '../../server/retention/redact-payload';
import { fixture, officialExample, officialExampleNames } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ RETENTION_DAYS: '30' });
});
afterAll(() => t.close());

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function payloadOf(webhookId: string): Promise<Record<string, unknown>> {
  const [row] = await selectRows<{ payload: Record<string, unknown> }>(t.database.db, sql`select payload from activity_events where webhook_id = ${webhookId}`);
  return row!.payload;
}

async function age(webhookIds: string[], days: number): Promise<void> {
  await t.database.db.execute(
    sql`update activity_events set received_at = now() - ${days}::float8 * interval '1 day'
        where webhook_id in (select jsonb_array_elements_text(${JSON.stringify(webhookIds)}::jsonb))`,
  );
}

async function allPayloads(): Promise<Array<{ id: number; payload: unknown }>> {
  return selectRows(t.database.db, sql`select id::int as id, payload from activity_events order by id`);
}

describe('retention of private text', () => {
  const delivered = new Map<string, { webhookId: string; body: Record<string, unknown> }>();

  beforeAll(async () => {
    const bodies: Array<[string, Record<string, unknown>]> = [
      ...officialExampleNames.map((name): [string, Record<string, unknown>] => [name, officialExample(name)]),
      ['voice-ai-call-end', fixture('voice-ai-call-end')],
      ['email-outbound', fixture('email-outbound')],
      ['sms-outbound-unicode-long', fixture('sms-outbound-unicode-long')],
      ['recent-sms', { ...fixture('sms-inbound'), webhookId: 'retention-recent-sms' }],
    ];
    for (const [name, body] of bodies) {
      const res = await t.postSigned(body).expect(200);
      delivered.set(name, { webhookId: res.body.webhookId, body });
    }
    await age([...delivered.entries()].filter(([name]) => name !== 'recent-sms').map(([, d]) => d.webhookId), 31);
    // Inbox rows of another engineer's processor: stored, not yet processed (or failed and to be retried).
    for (const status of ['received', 'failed']) {
      await t.database.db.execute(
        sql`insert into activity_events (webhook_id, event_type, status, source, location_id, payload, received_at)
            values (${`retention-inbox-${status}`}, 'InboundMessage', ${status}, 'webhook', 'locInbox', ${JSON.stringify({ type: 'InboundMessage', body: 'call me back' })}::jsonb,
                    now() - interval '90 days')`,
      );
    }
  });

  it('when the job runs, then an old SMS keeps its ids and a hash, length and segment count of its removed body', async () => {
    const usageBefore = await selectRows(t.database.db, sql`select activity_event_id, metric, quantity::text, attributes from usage_records order by id`);
    expect(await t.service.scheduler.runNow('retention')).toBe(true);

    const { webhookId, body } = delivered.get('sms-outbound-unicode-long')!;
    const after = await payloadOf(webhookId);
    const redaction = after[REDACTION_KEY] as Redaction;
    const text = String(body.body);
    expect(after).not.toHaveProperty('body');
    expect(redaction.fields.body).toEqual({ length: [...text].length, bytes: Buffer.byteLength(text), sha256: sha256(text) });
    expect(redaction.retentionDays).toBe(30);
    const [segments] = await selectRows<{ q: string; encoding: string }>(
      t.database.db,
      sql`select trim_scale(u.quantity)::text as q, u.attributes->>'encoding' as encoding from usage_records u
          join activity_events e on e.id = u.activity_event_id where e.webhook_id = ${webhookId} and u.metric = 'sms_segments'`,
    );
    expect(redaction.counted).toEqual({ sms_segments: segments!.q, encoding: segments!.encoding });
    for (const key of ['type', 'locationId', 'contactId', 'conversationId', 'messageId', 'dateAdded', 'direction', 'messageType', 'webhookId']) {
      if (key in body) expect(after[key]).toEqual(body[key]);
    }
    // Billing's own records are not touched.
    expect(await selectRows(t.database.db, sql`select activity_event_id, metric, quantity::text, attributes from usage_records order by id`)).toEqual(usageBefore);
  });

  it('when old emails, Voice AI calls and provider messages were redacted, then bodies, subjects, transcripts, summaries and recordings are gone', async () => {
    const voice = await payloadOf(delivered.get('voice-ai-call-end')!.webhookId);
    expect(voice).not.toHaveProperty('transcript');
    expect(voice).not.toHaveProperty('summary');
    expect(voice).not.toHaveProperty('extractedData');
    expect(voice).toMatchObject({ type: 'VoiceAiCallEnd', duration: 187, messageId: 'm1vai000000000000001' });
    expect(Object.keys((voice[REDACTION_KEY] as Redaction).fields).sort()).toEqual(['extractedData', 'summary', 'transcript']);

    const email = await payloadOf(delivered.get('email-outbound')!.webhookId);
    for (const key of ['body', 'plainText', 'subject']) expect(email).not.toHaveProperty(key);
    expect(email).toMatchObject({ messageType: 'Email', emailMessageId: 'em_000001', threadId: 'th_000001' });

    const call = await payloadOf(delivered.get('outbound-call')!.webhookId);
    expect(call.attachments).toEqual(['[redacted]']);
    expect(call).toMatchObject({ callDuration: 120, callStatus: 'completed' });

    const provider = await payloadOf(delivered.get('provider-outbound-sms')!.webhookId);
    expect(provider).not.toHaveProperty('message');
    const stats = await payloadOf(delivered.get('lc-email-stats')!.webhookId);
    expect(stats).toMatchObject({ webhookPayload: { event: 'delivered', id: 've9EPM428h8vShlRW1KT', message: { size: 1725 } } });

    // Lifecycle events had no text: only marked as done, otherwise as received.
    const { webhookId, body } = delivered.get('install-agency')!;
    const install = await payloadOf(webhookId);
    expect((install[REDACTION_KEY] as Redaction).fields).toEqual({});
    const { [REDACTION_KEY]: _mark, ...rest } = install;
    expect(rest).toEqual(body);
  });

  it('when a delivery is recent, or still in the inbox (received, failed), then its text is untouched', async () => {
    const recent = delivered.get('recent-sms')!;
    expect(await payloadOf(recent.webhookId)).toEqual(recent.body);
    for (const status of ['received', 'failed']) {
      expect(await payloadOf(`retention-inbox-${status}`)).toEqual({ type: 'InboundMessage', body: 'call me back' });
    }
  });

  it('when the job runs again, then nothing changes', async () => {
    const before = await allPayloads();
    const summary = await t.service.operations.retention.runOnce();
    expect(summary).toMatchObject({ events: 0, complete: true });
    expect(await allPayloads()).toEqual(before);
  });

  it('when a redacted delivery is replayed by HighLevel, then it is still answered as a duplicate and stores nothing', async () => {
    const { webhookId, body } = delivered.get('voice-ai-call-end')!;
    const countBefore = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from usage_records`);
    const res = await t.postSigned(body).expect(200);
    expect(res.body).toMatchObject({ status: 'duplicate', webhookId });
    expect(await selectRows(t.database.db, sql`select count(*)::int as n from usage_records`)).toEqual(countBefore);
  });

  it('when the recent delivery passes the retention period, then the next run redacts it, and only it', async () => {
    const recent = delivered.get('recent-sms')!;
    await age([recent.webhookId], 30.5);
    const summary = await t.service.operations.retention.runOnce();
    expect(summary).toMatchObject({ events: 1, fields: 1 });
    expect(await payloadOf(recent.webhookId)).not.toHaveProperty('body');
  });
});
