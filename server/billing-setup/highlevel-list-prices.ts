/**
 * HighLevel's published list prices (what HighLevel charges the agency), per item of a built-in metric, in US cents
 * as decimal strings — the pricing grid's prefilled base costs, which the agency edits when its own cost differs
 * (another country, its own Twilio or Mailgun, a negotiated rate). Plain data without imports, so the settings page's
 * bundle includes it. Copied 2026-12-06 from HighLevel's help center; US/Canada rates, outbound. A metric HighLevel
 * publishes no price for (in the pages below) has `costCents: null` and says so.
 *
 * Sources:
 * - LC Phone Pricing & Billing Guide, https://help.gohighlevel.com/support/solutions/articles/48001223556-lc-phone-pricing-billing-guide
 *   (modified 2025-11-04): local number $1.15/month, toll-free $2.15/month; SMS US/Canada $0.0083 per segment,
 *   outbound and inbound; MMS US/Canada outbound $0.0220 per segment (inbound $0.0165 on local numbers).
 * - LeadConnector Email, https://help.gohighlevel.com/support/solutions/articles/48001220605-leadconnector-email:
 *   "$0.675 for 1,000 emails for all the plans" (incoming and outgoing).
 */

/** One metric's HighLevel list price, or why there is none. */
export interface HighLevelListPrice {
  /** Cost of one item of the metric in US cents (decimal string); null when HighLevel publishes none we could copy. */
  costCents: string | null;
  /** What the price is for, in words ("per SMS segment, US/Canada"). */
  basis: string;
  /** The HighLevel page it comes from; null when there is none. */
  source: string | null;
}

const LC_PHONE = 'https://help.gohighlevel.com/support/solutions/articles/48001223556-lc-phone-pricing-billing-guide';
const LC_EMAIL = 'https://help.gohighlevel.com/support/solutions/articles/48001220605-leadconnector-email';
const NONE = (basis: string): HighLevelListPrice => ({ costCents: null, basis, source: null });

/** HighLevel's list price per built-in metric (keys of server/metering/metrics.ts). */
export const HIGHLEVEL_LIST_PRICES: Readonly<Record<string, HighLevelListPrice>> = {
  sms: { costCents: '0.83', basis: 'per SMS segment, US/Canada: a message of 2 segments costs twice this', source: LC_PHONE },
  sms_segments: { costCents: '0.83', basis: 'per SMS segment, US/Canada', source: LC_PHONE },
  mms: { costCents: '2.2', basis: 'per outbound MMS segment, US/Canada', source: LC_PHONE },
  email: { costCents: '0.0675', basis: '$0.675 per 1,000 emails (LC Email)', source: LC_EMAIL },
  phone_numbers: { costCents: '115', basis: 'per local number per month, US/Canada (toll-free: $2.15)', source: LC_PHONE },
  call_minutes: NONE('HighLevel’s LC Phone guide lists call rates by direction and forwarding, not copied here: enter your cost per minute'),
  voicemail_drops: NONE('none found per voicemail drop in HighLevel’s pages: enter your cost'),
  whatsapp: NONE('none found per WhatsApp message in HighLevel’s pages: enter your cost'),
  ai_call_minutes: NONE('none found per Voice AI minute in HighLevel’s pages: enter your cost'),
  ai_messages: NONE('none found per AI message in HighLevel’s pages: enter your cost'),
  ai_tokens: NONE('none found per AI token in HighLevel’s pages: enter your cost'),
};
