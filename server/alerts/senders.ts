/**
 * The two outbound channels' requests.
 * - The agency's webhook, signed per the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks,
 *   spec/standard-webhooks.md) with its reference implementation, the npm package `standardwebhooks`: headers
 *   `webhook-id` (the alert's id: the same on every retry, so receivers drop duplicates), `webhook-timestamp` (Unix
 *   seconds of this attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), body
 *   `{ type, timestamp, data }`. Receivers verify with `new Webhook(secret).verify(body, headers)`.
 * - A HighLevel marketplace workflow trigger: the event's JSON posted to the `targetUrl` HighLevel gave in its
 *   subscription call (marketplace docs "Creating a Marketplace Workflow Trigger", Set Up Subscription URL:
 *   marketplace.gohighlevel.com/docs/marketplace-modules/CustomTriggers). The docs name no authentication for that
 *   call; the sub-account's OAuth token and the `Version` header go with it as with every call to HighLevel's API
 *   host, which is the only host a targetUrl is accepted for (server/alerts/trigger-subscriptions.ts).
 */
import axios from 'axios';
import { Webhook } from 'standardwebhooks';
import { API_VERSIONS } from '../highlevel/api-client';
import { publicOnlyAgent } from './webhook-url';

/** How long one outbound request may take (milliseconds) before it counts as a failed attempt. */
export const SEND_TIMEOUT_MS = 10_000;

/** The answer to one attempt: the HTTP status, or the network error (status null). */
export interface SendResult {
  status: number | null;
  error: string | null;
}

/** The Standard Webhooks message: `type` (e.g. `payment.failed`), `timestamp` (the alert's, ISO 8601) and `data`. */
export function webhookBody(type: string, timestamp: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: timestamp.toISOString(), data });
}

/**
 * Signs and posts `body` to `url`. `secret` is the agency's `whsec_…` secret; `messageId` the alert's id.
 * Only to a public address: a host that resolves to a private, loopback or link-local one is not connected to
 * (webhook-url.ts). Never throws: a network failure or a refused address is a result with `status` null.
 */
export async function sendWebhook(url: string, secret: string, messageId: string, body: string, at = new Date()): Promise<SendResult> {
  const signature = new Webhook(secret).sign(messageId, at, body);
  return post(
    url,
    body,
    { 'webhook-id': messageId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
    publicOnlyAgent(url),
  );
}

/** Posts the trigger's payload to its `targetUrl` with the sub-account's token. Never throws. */
export function sendTrigger(targetUrl: string, accessToken: string, payload: Record<string, unknown>): Promise<SendResult> {
  return post(targetUrl, JSON.stringify(payload), { authorization: `Bearer ${accessToken}`, version: API_VERSIONS.locations });
}

async function post(url: string, body: string, headers: Record<string, string>, agent?: ReturnType<typeof publicOnlyAgent>): Promise<SendResult> {
  try {
    const res = await axios.post(url, body, {
      ...(agent ? { httpAgent: agent, httpsAgent: agent } : {}),
      headers: { 'content-type': 'application/json', 'user-agent': 'Meterbridge-Alerts/1', ...headers },
      timeout: SEND_TIMEOUT_MS,
      maxRedirects: 0,
      validateStatus: () => true,
      transformRequest: [(data: string) => data],
      responseType: 'text',
    });
    return { status: res.status, error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}: ${String(res.data ?? '').slice(0, 300)}` };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // request-filtering-agent's refusal ("DNS lookup 10.0.0.5(…) is not allowed. Because, It is private IP address.").
    if (/ is not allowed\. Because/.test(e.message ?? '')) return { status: null, error: `Not sent: the host resolves to a private or local address, which Meterbridge does not post to (${e.message!.slice(0, 200)})` };
    return { status: null, error: (e.code ? `${e.code}: ` : '') + (e.message ?? 'request failed').slice(0, 300) };
  }
}
