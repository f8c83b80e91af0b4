/**
 * HighLevel webhook traffic for the demo: the repository's HighLevel-shaped fixtures
 * (test/fixtures/highlevel/webhooks), re-addressed to a demo sub-account with fresh ids and the current time, so
 * each is a new delivery that HighLevel could have sent.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fixture } from '../support/highlevel-fixtures';

/** The everyday mix of one sub-account's activity (fixture names, weighted by repetition). */
export const EVERYDAY_MIX = [
  'sms-outbound',
  'sms-outbound',
  'sms-inbound',
  'sms-outbound-unicode-long',
  'mms-outbound',
  'email-outbound',
  'email-inbound',
  'call-outbound-completed',
  'call-inbound-voicemail',
  'call-outbound-no-answer',
  'whatsapp-outbound',
  'voice-ai-call-end',
] as const;

/** A bulk SMS campaign message (HighLevel marks campaign sends with `source: "bulk_actions"`). */
export const CAMPAIGN_SMS = 'sms-outbound';

/**
 * One delivery body: the fixture `name` for `locationId`, with a new `webhookId` (UUID, HighLevel's dedupe key), new
 * message/call ids and `dateAdded`/`timestamp`/`createdAt` set to `at`.
 * @throws when the fixture does not exist.
 */
export function demoDelivery(name: string, locationId: string, at: Date, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = fixture(name);
  const iso = at.toISOString();
  const fresh = (prefix: string) => `${prefix}${randomBytes(9).toString('hex')}`;
  body.locationId = locationId;
  body.webhookId = randomUUID();
  if ('messageId' in body) body.messageId = fresh('demoMsg');
  if ('id' in body) body.id = fresh('demoCall');
  for (const field of ['dateAdded', 'timestamp', 'createdAt']) if (field in body) body[field] = iso;
  return { ...body, ...overrides };
}
