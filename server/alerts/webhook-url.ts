/**
 * Where an agency's alert webhook may point: a public https address, never this server's own network. The URL is
 * the agency's input and Meterbridge posts to it from inside its network, so without a guard it could reach the
 * cloud's metadata service (169.254.169.254), the database or an internal admin port (server-side request forgery,
 * OWASP: cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html).
 *
 * Two checks: when saved, a URL that names a non-public IP address or `localhost` is refused with words; when sent,
 * the connection goes through `request-filtering-agent` (a maintained http(s).Agent, github.com/azu/request-filtering-agent),
 * which refuses to connect when the host name *resolves* to a private, loopback, link-local or other non-unicast
 * address — so a public-looking name pointed at 10.0.0.5 is refused too, and a DNS answer changed after the save is
 * checked again on every attempt. Both use ipaddr.js's ranges: only `unicast` is public.
 */
import ipaddr from 'ipaddr.js';
import { useAgent } from 'request-filtering-agent';
import { AppError } from '../http/errors';

/** True when `address` (an IPv4 or IPv6 literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const parsed = ipaddr.process(address.replace(/^\[|\]$/g, ''));
  return parsed.range() === 'unicast';
}

/**
 * The webhook URL as saved, or null when blank.
 * @throws AppError 400 `invalid_alert_settings` when it is not an https URL, or names `localhost` or a non-public IP.
 */
export function checkWebhookUrl(input: string | null | undefined): string | null {
  const url = input?.trim() || null;
  if (!url) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || parsed.protocol !== 'https:') throw new AppError('invalid_alert_settings', `The webhook URL must be an https URL; "${url.slice(0, 100)}" is not.`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || host.endsWith('.localhost') || (ipaddr.isValid(host) && !isPublicAddress(host));
  if (local) {
    throw new AppError('invalid_alert_settings', `The webhook URL must be a public address on the internet; ${parsed.hostname} is a private or local address Meterbridge does not post to.`);
  }
  return url;
}

/** The agent an alert webhook is posted through: refuses to connect to a non-public address (see the module comment). */
export function publicOnlyAgent(url: string) {
  return useAgent(url, { allowPrivateIPAddress: false, allowMetaIPAddress: false });
}
