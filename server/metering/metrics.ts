/**
 * The metrics Meterbridge derives from HighLevel activity. Agencies may add custom keys (lowercase snake_case)
 * through the usage API; these are the built-in ones.
 */
export const BUILT_IN_METRICS = [
  'sms',
  'sms_segments',
  'mms',
  'email',
  'call_minutes',
  'voicemail_drops',
  'whatsapp',
  'ai_call_minutes',
  'ai_messages',
  'ai_tokens',
  'phone_numbers',
] as const;

export type BuiltInMetric = (typeof BUILT_IN_METRICS)[number];
/** A built-in metric or an agency-defined key. */
export type Metric = BuiltInMetric | (string & {});

/** What one unit of a metric's quantity counts. */
export type UsageUnit = 'message' | 'segment' | 'minute' | 'token' | 'number-month';

/** The unit each built-in metric is counted in. */
export const METRIC_UNITS: Record<BuiltInMetric, UsageUnit> = {
  sms: 'message',
  sms_segments: 'segment',
  mms: 'message',
  email: 'message',
  call_minutes: 'minute',
  voicemail_drops: 'message',
  whatsapp: 'message',
  ai_call_minutes: 'minute',
  ai_messages: 'message',
  ai_tokens: 'token',
  // One active phone number in one UTC calendar month (server/phone-numbers/).
  phone_numbers: 'number-month',
};

/**
 * Metrics HighLevel reports with a direction (InboundMessage / OutboundMessage, server/metering/normalise.ts): the
 * only ones an inbound + outbound pair of rules can price separately. Voice AI calls, phone numbers and usage-API
 * metrics come without one.
 */
const DIRECTIONAL_METRICS: ReadonlySet<string> = new Set<BuiltInMetric>([
  'sms',
  'sms_segments',
  'mms',
  'email',
  'call_minutes',
  'voicemail_drops',
  'whatsapp',
  'ai_messages',
  'ai_tokens',
]);

/** Whether `metric` is reported with a direction (DIRECTIONAL_METRICS). */
export const isDirectionalMetric = (metric: string): boolean => DIRECTIONAL_METRICS.has(metric);
