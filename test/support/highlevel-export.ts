/**
 * HighLevel's message export faked with nock, in its documented shapes (GET /conversations/messages/export →
 * `{ messages: GetMessageResponseDto[], nextCursor, total }`; HighLevel API docs, "Export messages by location ID"),
 * plus a Location grant for the sub-account whose history is read, and the webhook HighLevel would have delivered
 * for an exported message (to play "already delivered by webhook").
 */
import nock from 'nock';
import { createSecretBox } from '../../server/crypto/secret-box';
import { upsertInstallation } from '../../server/highlevel/installation-repository';
import type { Service } from '../../server/main';
import { HIGHLEVEL_API } from './highlevel-oauth';
import { TEST_ENCRYPTION_KEY } from './test-service';

/** An exported message, as HighLevel documents `GetMessageResponseDto`. */
export interface ExportedMessage {
  id: string;
  type: number;
  messageType: string;
  locationId: string;
  contactId: string;
  conversationId: string;
  dateAdded: string;
  direction: 'inbound' | 'outbound';
  contentType: string;
  body?: string;
  status?: string;
  attachments?: string[];
  source?: string;
  meta?: Record<string, unknown>;
  [extra: string]: unknown;
}

const base = (id: string, locationId: string, dateAdded: string, direction: 'inbound' | 'outbound') => ({
  id,
  locationId,
  contactId: 'cI08i1Bls3iTB9bKgFJh',
  conversationId: 'fcanlLgpbQgQhderivVs',
  dateAdded,
  direction,
  source: 'workflow',
});

/** An SMS (an MMS when it has attachments). */
export function exportedSms(id: string, at: { locationId: string; dateAdded: string }, body: string, direction: 'inbound' | 'outbound' = 'outbound', attachments: string[] = []): ExportedMessage {
  return { ...base(id, at.locationId, at.dateAdded, direction), type: 2, messageType: 'TYPE_SMS', contentType: 'text/plain', body, status: 'delivered', attachments };
}

/**
 * A call. `shape` 'live' nests the facts as the live API does (`meta.call.duration`, `meta.call.status`); 'documented'
 * uses the OpenAPI's `meta.callDuration` (a string) and `meta.callStatus`.
 */
export function exportedCall(
  id: string,
  at: { locationId: string; dateAdded: string },
  seconds: number,
  callStatus: string,
  direction: 'inbound' | 'outbound' = 'outbound',
  shape: 'live' | 'documented' = 'live',
): ExportedMessage {
  const meta = shape === 'live' ? { call: { duration: seconds, status: callStatus } } : { callDuration: String(seconds), callStatus };
  return { ...base(id, at.locationId, at.dateAdded, direction), type: 1, messageType: 'TYPE_CALL', contentType: 'text/plain', status: 'completed', attachments: [], meta };
}

/** An email. */
export function exportedEmail(id: string, at: { locationId: string; dateAdded: string }, direction: 'inbound' | 'outbound' = 'outbound'): ExportedMessage {
  return { ...base(id, at.locationId, at.dateAdded, direction), type: 3, messageType: 'TYPE_EMAIL', contentType: 'text/html', body: '<p>Hello</p>', status: 'sent', meta: { email: { messageIds: [`em_${id}`] } } };
}

/** A WhatsApp message. */
export function exportedWhatsApp(id: string, at: { locationId: string; dateAdded: string }, direction: 'inbound' | 'outbound' = 'outbound'): ExportedMessage {
  return { ...base(id, at.locationId, at.dateAdded, direction), type: 19, messageType: 'TYPE_WHATSAPP', contentType: 'text/plain', body: 'Hola', status: 'read' };
}

/** The InboundMessage / OutboundMessage webhook HighLevel delivers for the same message (HighLevel's field names). */
export function webhookFor(message: ExportedMessage, webhookId: string): Record<string, unknown> {
  const meta = (message.meta ?? {}) as { call?: { duration?: number; status?: string }; callDuration?: string; callStatus?: string };
  const call = meta.call ?? (meta.callDuration !== undefined ? { duration: Number(meta.callDuration), status: meta.callStatus } : undefined);
  const channel = { TYPE_SMS: 'SMS', TYPE_CALL: 'CALL', TYPE_EMAIL: 'Email', TYPE_WHATSAPP: 'WhatsApp' }[message.messageType] ?? 'SMS';
  return {
    type: message.direction === 'inbound' ? 'InboundMessage' : 'OutboundMessage',
    locationId: message.locationId,
    attachments: message.attachments ?? [],
    ...(message.body !== undefined ? { body: message.body } : {}),
    contactId: message.contactId,
    conversationId: message.conversationId,
    dateAdded: message.dateAdded,
    direction: message.direction,
    messageType: channel,
    messageId: message.id,
    ...(call ? { callDuration: call.duration, callStatus: call.status } : {}),
    status: message.status,
    messageTypeString: message.messageType,
    timestamp: message.dateAdded,
    webhookId,
  };
}

/** What one export request must carry, and the pages to answer in order. */
export interface ExportScript {
  locationId: string;
  channel: 'SMS' | 'Call' | 'Email' | 'WhatsApp';
  startAt: string;
  endAt: string;
  token: string;
  /** Each page's messages; page i > 0 is asked for with cursor `<cursorPrefix>-<i>`. */
  pages: ExportedMessage[][] | unknown[][];
  cursorPrefix?: string;
  /** Pages (by index) to answer with an error instead, once each: `[status, body]`. */
  failures?: Record<number, [number, unknown]>;
}

/** The query HighLevel is asked with for `page` of a script. */
export function exportQuery(script: ExportScript, page: number): Record<string, string> {
  return {
    locationId: script.locationId,
    channel: script.channel,
    startDate: new Date(script.startAt).toISOString(),
    endDate: new Date(script.endAt).toISOString(),
    sortBy: 'createdAt',
    sortOrder: 'asc',
    limit: '100',
    ...(page > 0 ? { cursor: cursorOf(script, page) } : {}),
  };
}

function cursorOf(script: ExportScript, page: number): string {
  return `${script.cursorPrefix ?? `${script.channel}-cursor`}-${page}`;
}

/**
 * Serves the script's pages, each exactly once, requiring the Version header, the sub-account's bearer token and
 * the exact query. A page listed in `failures` is answered with its error first (then, once more, with the page).
 * @returns the nock scopes (call `.done()` or check `nock.pendingMocks()`).
 */
export function serveExport(script: ExportScript): nock.Scope[] {
  const reqheaders = { version: '2021-04-15', authorization: `Bearer ${script.token}` };
  return script.pages.map((messages, i) => {
    const scope = nock(HIGHLEVEL_API, { reqheaders });
    const failure = script.failures?.[i];
    if (failure) scope.get('/conversations/messages/export').query(exportQuery(script, i)).reply(failure[0], failure[1] as nock.Body);
    const last = i === script.pages.length - 1;
    return scope
      .get('/conversations/messages/export')
      .query(exportQuery(script, i))
      .reply(200, { messages, nextCursor: last ? null : cursorOf(script, i + 1), total: script.pages.flat().length, traceId: `trace-${i}` });
  });
}

/**
 * Stores an active Location grant for the sub-account, as the OAuth flow would (sealed, a day to live), carrying
 * `scopes` (space-separated, as HighLevel's token response lists them).
 */
export async function giveLocationToken(service: Service, companyId: string, locationId: string, accessToken: string, scopes = 'conversations/message.readonly'): Promise<void> {
  const box = createSecretBox(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));
  await upsertInstallation(service.database.db, {
    companyId,
    locationId,
    userType: 'Location',
    userId: null,
    accessToken: box.seal(accessToken),
    refreshToken: box.seal(`refresh-${accessToken}`),
    scopes,
    expiresAt: new Date(Date.now() + 86_400_000),
    isBulkInstallation: false,
    source: 'oauth',
  });
}
