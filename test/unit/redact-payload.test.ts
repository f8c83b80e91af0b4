/**
 * The redaction of one payload (server/retention/redact-payload.ts): which values go, what stays, and what the
 * record says about each removed value — for every shape Meterbridge stores (webhooks, backfilled messages, Voice AI
 * call logs, LC Email events, usage-API events).
 */
import { createHash } from 'node:crypto';
import { inboundMessageSchema } from '../../server/highlevel/webhook-events';
import { REDACTED_ATTACHMENT, REDACTION_KEY, redactPayload, type Redaction } from '../../server/retention/redact-payload';
import { fixture, officialExample } from '../support/highlevel-fixtures';

const AT = new Date('2026-12-06T10:00:00.000Z');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const redact = (payload: unknown, counted?: Redaction['counted']) => redactPayload(payload, { at: AT, retentionDays: 30, counted });

describe('redactPayload', () => {
  it('when an SMS webhook is redacted, then its body is gone, its ids stay, and the record holds length, bytes, hash and counts', () => {
    const sms = officialExample('inbound-sms');
    const { payload, redaction } = redact(sms, { sms_segments: '1', encoding: 'GSM-7' });
    expect(payload).not.toHaveProperty('body');
    const { body, ...rest } = sms;
    expect(payload).toEqual({ ...rest, [REDACTION_KEY]: redaction });
    expect(redaction).toEqual({
      redactedAt: '2026-12-06T10:00:00.000Z',
      retentionDays: 30,
      fields: { body: { length: 22, bytes: 22, sha256: sha256(String(body)) } },
      counted: { sms_segments: '1', encoding: 'GSM-7' },
    });
    expect(sms).toHaveProperty('body'); // the input is not modified
  });

  it('when a redacted message is parsed with the webhook schema, then it still is the same InboundMessage', () => {
    const { payload } = redact(fixture('sms-inbound'));
    expect(inboundMessageSchema.safeParse(payload).success).toBe(true);
  });

  it('when text is not ASCII, then length counts code points and bytes count UTF-8', () => {
    const { redaction } = redact({ body: 'Olá 👋' });
    expect(redaction.fields.body).toEqual({ length: 5, bytes: 9, sha256: sha256('Olá 👋') });
  });

  it('when an email has body, plain text and subject, then all three go and addresses stay', () => {
    const { payload, redaction } = redact(fixture('email-outbound'));
    expect(Object.keys(redaction.fields).sort()).toEqual(['body', 'plainText', 'subject']);
    expect(payload).toMatchObject({ from: 'Harbor Dental <frontdesk@harbordental.example>', to: ['dana@example.com'], threadId: 'th_000001' });
  });

  it('when a Voice AI call ends, then transcript, summary and extracted data go (non-text values as JSON) and the duration stays', () => {
    const { payload, redaction } = redact(fixture('voice-ai-call-end'));
    expect(payload).toMatchObject({ duration: 187, executedCallActions: [{ type: 'book_appointment', status: 'success' }] });
    expect(redaction.fields.extractedData).toEqual({ length: 27, bytes: 27, sha256: sha256('{"appointment_booked":true}'), json: true });
  });

  it('when a message has attachments, then each URL is replaced one for one and the count is recorded', () => {
    const urls = ['https://storage.example/a.jpg', 'https://storage.example/b.jpg'];
    const { payload, redaction } = redact({ messageType: 'SMS', attachments: urls, body: 'look' });
    expect(payload.attachments).toEqual([REDACTED_ATTACHMENT, REDACTED_ATTACHMENT]);
    expect(redaction.fields.attachments).toEqual({ count: 2, sha256: sha256(JSON.stringify(urls)) });
  });

  it('when a backfilled message or call log is redacted, then text under `message` goes and the backfill job id stays', () => {
    const { payload, redaction } = redact({ backfillJobId: 7, message: { id: 'msg1', body: 'hello', meta: { call: { duration: 60 } }, transcript: [{ role: 'agent', text: 'hi' }] } });
    expect(payload).toMatchObject({ backfillJobId: 7, message: { id: 'msg1', meta: { call: { duration: 60 } } } });
    expect(Object.keys(redaction.fields).sort()).toEqual(['message.body', 'message.transcript']);
  });

  it('when an LC Email event carries a subject header and a delivery message, then they go and its event, id and size stay', () => {
    const stats = officialExample('lc-email-stats') as { webhookPayload: { message: { headers: Record<string, string> } } };
    stats.webhookPayload.message.headers.subject = 'Your results';
    const { payload, redaction } = redact(stats);
    expect(redaction.fields).toHaveProperty(['webhookPayload.message.headers.subject']);
    expect(redaction.fields).toHaveProperty(['webhookPayload.delivery-status.message']);
    expect(payload).toMatchObject({ webhookPayload: { event: 'delivered', id: 've9EPM428h8vShlRW1KT', message: { size: 1725 } } });
  });

  it('when a usage-API event or a lifecycle event has no text, then only the mark is added', () => {
    const usage = { locationId: 'loc1', metric: 'sms', quantity: '2', occurredAt: '2026-01-01T00:00:00.000Z', idempotencyKey: 'k1', apiKeyId: 3 };
    const { payload, redaction } = redact(usage);
    expect(redaction.fields).toEqual({});
    expect(payload).toEqual({ ...usage, [REDACTION_KEY]: redaction });
  });

  it('when a payload was redacted already, then redacting it again returns it unchanged', () => {
    const once = redact(fixture('voice-ai-call-end'));
    const twice = redactPayload(once.payload, { at: new Date('2027-01-01T00:00:00.000Z'), retentionDays: 7 });
    expect(twice.payload).toEqual(once.payload);
    expect(twice.redaction.redactedAt).toBe('2026-12-06T10:00:00.000Z');
  });

  it('when a payload is not a JSON object, then it is replaced whole and recorded as `$`', () => {
    const { payload, redaction } = redact(['free', 'text']);
    expect(payload).toEqual({ [REDACTION_KEY]: redaction });
    expect(redaction.fields.$).toMatchObject({ json: true, sha256: sha256('["free","text"]') });
  });

  it('when a payload is nested very deeply (hostile input), then what lies below 64 levels is dropped and the rest can be stored', () => {
    let deep: Record<string, unknown> = { body: 'bottom' };
    for (let i = 0; i < 20_000; i++) deep = { next: deep };
    const { payload, redaction } = redact({ ...deep, transcript: deep, body: 'top' });
    expect(redaction.fields.body).toEqual({ length: 3, bytes: 3, sha256: sha256('top') });
    expect(redaction.fields).toHaveProperty('transcript');
    expect(redaction.fields[Array(65).fill('next').join('.')]).toEqual({ dropped: 'nested_too_deeply' });
    expect(() => JSON.stringify(payload)).not.toThrow();
  });

  it('when JSON carries a `__proto__` key, then it stays an own field of the copy', () => {
    const { payload } = redact(JSON.parse('{"__proto__": {"body": "x"}, "id": "1"}'));
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload)).toEqual(['__proto__', 'id', REDACTION_KEY]);
  });
});
