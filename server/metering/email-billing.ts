/**
 * Which emails an agency bills, so that no email counts twice. HighLevel reports LC Email two ways:
 * - each conversation email as an InboundMessage / OutboundMessage with `messageType` Email, whose `provider` names
 *   the service that sent it (GoHighLevel/highlevel-api-docs apps/conversations.json, examples "Leadconnector Gmail",
 *   "mailgun", "smtp", "custom"); only mail sent through HighLevel's own email service (LC Email, which runs on
 *   Mailgun: its `LCEmailStats` events are Mailgun events) costs the agency LC Email;
 * - `LCEmailStats`, one event per LC Email event (delivered, opened, ...), campaigns and bulk email included
 *   (docs/webhook events/LCEmailStats.md), available to location-level apps only.
 * Each agency chooses one source (`email_billing_source`; API `PUT /api/email-billing`); the other is recorded with
 * quantity 0. Default: `conversations`, because it works for every install (LCEmailStats reaches location-level apps
 * only) and is what Meterbridge counted before the choice existed; email campaigns are missed by it.
 */

/** The sources an agency can bill email from. */
export const EMAIL_BILLING_SOURCES = ['conversations', 'lc_email_stats'] as const;
export type EmailBillingSource = (typeof EMAIL_BILLING_SOURCES)[number];

/** The source in force for an agency that has not chosen. */
export const DEFAULT_EMAIL_BILLING_SOURCE: EmailBillingSource = 'conversations';

/** Why an email is recorded with quantity 0 (kept as `attributes.notBilled`). */
export type EmailNotBilledReason = 'own_mailbox' | 'billed_from_lc_email_stats' | 'billed_from_conversations' | 'test_mode';

/**
 * `provider` values that mean HighLevel's own email service. Absent counts as LC Email: HighLevel's examples of
 * emails sent from the app carry no `provider`, and LC Email is a sub-account's default sending service.
 */
const LC_EMAIL_PROVIDERS = new Set(['mailgun']);

/**
 * A conversation email (InboundMessage / OutboundMessage, channel email).
 * @returns null when it is billable (quantity 1), else why it is recorded with quantity 0.
 */
export function conversationEmailNotBilled(provider: string | undefined, source: EmailBillingSource): EmailNotBilledReason | null {
  if (source !== 'conversations') return 'billed_from_lc_email_stats';
  if (provider !== undefined && provider.trim() !== '' && !LC_EMAIL_PROVIDERS.has(provider.trim().toLowerCase())) return 'own_mailbox';
  return null;
}

/**
 * An `LCEmailStats` event. Only `delivered` is usage (opens and clicks are not sends; a failure was not delivered).
 * @returns 'none' for other events (no record), null when billable, else why it is recorded with quantity 0.
 */
export function lcEmailStatsNotBilled(
  event: string,
  flags: Record<string, unknown> | undefined,
  source: EmailBillingSource,
): EmailNotBilledReason | null | 'none' {
  if (event.toLowerCase() !== 'delivered') return 'none';
  if (source !== 'lc_email_stats') return 'billed_from_conversations';
  if (flags?.['is-test-mode'] === true || flags?.['is-system-test'] === true) return 'test_mode';
  return null;
}
