/**
 * Redaction of private text in a stored activity event's payload. Pure: no I/O; the caller gives the time.
 *
 * What is private: the words people wrote or said, which billing never needs once an event is counted — message and
 * email bodies (`body`, `plainText`, `html`, `text`, `content`, `message`), email subjects (`subject`), Voice AI call
 * transcripts and AI summaries (`transcript`, `summary`), what a Voice AI agent extracted from the call
 * (`extractedData`), and attachment URLs (`attachments`: call recordings, voicemails, MMS pictures). These keys are
 * found at any depth, so a webhook (`body`), a backfilled message (`message.body`), a Voice AI call log
 * (`message.transcript`) and an LC Email event (`webhookPayload.message.headers.subject`) are all covered.
 * HighLevel's shapes: test/fixtures/highlevel/official/ (its documented examples) and server/highlevel/webhook-events.ts.
 *
 * What is kept: every other field — ids (message, contact, conversation, location, webhook), event type, direction,
 * message type, status, dates, call durations and statuses, the sender and recipient addresses — so the event is still
 * the same event: it parses with the same schemas, keeps its delivery key and message key, and counts the same
 * attachments (an MMS stays an MMS). Each removed value leaves its length, size and SHA-256 under the payload key
 * `meterbridgeRedaction` (see `Redaction`), so a copy of the text shown later can be proven to be (or not be) the
 * text that was billed.
 *
 * Choice: text is removed (the key disappears) rather than replaced by an object, because every reader of payloads
 * (the webhook schemas, the replay tool's files, the message-key migration, backfill's `backfillJobId` lookup) treats
 * these fields as optional strings; an object in their place would make a redacted payload fail to parse. Attachment
 * URLs are replaced one for one by `"[redacted]"`, so their count survives.
 */
import { createHash } from 'node:crypto';

/** The payload key that holds the redaction record; its presence means the row has been dealt with. */
export const REDACTION_KEY = 'meterbridgeRedaction';

/** Keys whose string values are free text (an object under one of them is searched like any other object). */
const TEXT_KEYS = new Set(['body', 'plainText', 'html', 'text', 'content', 'message', 'subject']);
/** Keys whose value, whatever its JSON type, is private (transcripts may come as a list of turns). */
const WHOLE_KEYS = new Set(['transcript', 'summary', 'extractedData']);
/** Keys holding a list of URLs to private media; each URL is replaced, the count is kept. */
const ATTACHMENT_KEYS = new Set(['attachments']);

/** What stands in for an attachment URL. */
export const REDACTED_ATTACHMENT = '[redacted]';

/**
 * A removed value: `length` in Unicode code points, `bytes` of its UTF-8 text, `sha256` (hex) of those bytes. For a
 * value that was not a string (`json: true`) the text is its JSON (`JSON.stringify`).
 */
export interface RedactedText {
  length: number;
  bytes: number;
  sha256: string;
  json?: true;
}

/** Removed attachment URLs: how many, and the SHA-256 (hex) of the JSON array of the URLs. */
export interface RedactedAttachments {
  count: number;
  sha256: string;
}

/** A value removed without being read: nested too deeply to serialise (hostile input). */
export interface DroppedValue {
  dropped: 'nested_too_deeply';
}

/**
 * The record left in a redacted payload under `meterbridgeRedaction`.
 * - `redactedAt`: ISO 8601 instant of the redaction; `retentionDays`: the setting in force then.
 * - `fields`: per removed value, by path (keys joined by `.`, list positions as numbers: `body`, `message.body`,
 *   `webhookPayload.message.headers.subject`; `$` for a payload that was not a JSON object and was removed whole).
 *   Empty when there was nothing to remove (the row is then only marked as done).
 * - `counted`: what billing counted from the text, copied from the event's usage records when it has them
 *   (`sms_segments` and `ai_tokens` as decimal strings, `encoding` of the segments: `GSM-7` or `UCS-2`).
 */
export interface Redaction {
  redactedAt: string;
  retentionDays: number;
  fields: Record<string, RedactedText | RedactedAttachments | DroppedValue>;
  counted?: { sms_segments?: string; encoding?: string; ai_tokens?: string };
}

/** The redacted payload and what was removed from it. */
export interface RedactedPayload {
  payload: Record<string, unknown>;
  redaction: Redaction;
}

/** How a payload is redacted: the time, the retention setting, and what billing counted (see `Redaction.counted`). */
export interface RedactionContext {
  at: Date;
  retentionDays: number;
  counted?: Redaction['counted'];
}

/**
 * Returns a redacted copy of `payload` (the input is not modified). A payload that already carries a redaction record
 * is returned unchanged with its record, so redacting twice changes nothing. A payload that is not a JSON object is
 * replaced whole by `{ meterbridgeRedaction }` (path `$`). Never throws for JSON input: the walk is iterative, and
 * anything nested deeper than `MAX_DEPTH` (hostile input; HighLevel's payloads are a few levels deep) is dropped
 * with a `nested_too_deeply` record, so the result can always be serialised.
 */
export function redactPayload(payload: unknown, context: RedactionContext): RedactedPayload {
  if (isObject(payload) && isObject(payload[REDACTION_KEY])) {
    return { payload, redaction: payload[REDACTION_KEY] as unknown as Redaction };
  }
  const fields: Redaction['fields'] = {};
  let copy: Record<string, unknown> = {};
  if (isObject(payload)) copy = copyRedacted(payload, fields);
  else if (payload !== null && payload !== undefined) fields.$ = describe(payload);
  const counted = context.counted && Object.keys(context.counted).length > 0 ? { counted: context.counted } : {};
  const redaction: Redaction = { redactedAt: context.at.toISOString(), retentionDays: context.retentionDays, fields, ...counted };
  copy[REDACTION_KEY] = redaction;
  return { payload: copy, redaction };
}

/** Deepest nesting kept (levels below the payload's top). */
export const MAX_DEPTH = 64;

type Container = Record<string, unknown> | unknown[];

/** Copies `root` depth-first without its private values, recording each removed value under its path. */
function copyRedacted(root: Record<string, unknown>, fields: Redaction['fields']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const stack: Array<{ from: Container; to: Container; path: string; depth: number }> = [{ from: root, to: out, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { from, to, path, depth } = stack.pop()!;
    const inObject = !Array.isArray(from);
    const entries: Array<[string, unknown]> = inObject ? Object.entries(from) : from.map((v, i) => [String(i), v]);
    for (const [key, original] of entries) {
      const at = join(path, key);
      let value = original;
      if (inObject && value !== null && value !== undefined && (WHOLE_KEYS.has(key) || (TEXT_KEYS.has(key) && typeof value === 'string'))) {
        fields[at] = describe(value);
        continue;
      }
      if (inObject && ATTACHMENT_KEYS.has(key) && Array.isArray(value) && value.some((v) => typeof v === 'string')) {
        const json = safeJson(value);
        fields[at] = json === null ? NESTED_TOO_DEEPLY : { count: value.length, sha256: sha256(json) };
        value = value.map((v) => (typeof v === 'string' ? REDACTED_ATTACHMENT : v));
      }
      if (isObject(value) || Array.isArray(value)) {
        if (depth >= MAX_DEPTH) {
          fields[at] = NESTED_TOO_DEEPLY;
          continue;
        }
        const child: Container = Array.isArray(value) ? [] : {};
        put(to, key, child);
        stack.push({ from: value, to: child, path: at, depth: depth + 1 });
      } else {
        put(to, key, value);
      }
    }
  }
  return out;
}

/** A value dropped unread because it was nested deeper than `MAX_DEPTH`. */
const NESTED_TOO_DEEPLY: DroppedValue = { dropped: 'nested_too_deeply' };

/** Sets an own property, even one named `__proto__` (JSON may carry it; plain assignment would change the prototype). */
function put(to: Container, key: string, value: unknown): void {
  if (Array.isArray(to)) to.push(value);
  else Object.defineProperty(to, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Length, size and hash of a removed value (its JSON when it is not a string). */
function describe(value: unknown): RedactedText | DroppedValue {
  const text = typeof value === 'string' ? value : safeJson(value);
  if (text === null) return NESTED_TOO_DEEPLY;
  const summary: RedactedText = { length: [...text].length, bytes: Buffer.byteLength(text, 'utf8'), sha256: sha256(text) };
  return typeof value === 'string' ? summary : { ...summary, json: true };
}

/** `JSON.stringify`, or null when the value is nested too deeply for it (a RangeError). */
function safeJson(value: unknown): string | null {
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
