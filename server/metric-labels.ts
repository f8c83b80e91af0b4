/**
 * How each built-in metric is named, and what one unit of it counts: the one table both the server (Stripe product
 * names, invoices) and the settings page (ui/src/format.ts) read. Plain data: it imports only the metric list
 * (server/metering/metrics.ts, itself without imports), so the page's bundle can include it. A custom metric's
 * label is the agency's own (server/metering/custom-metrics.ts).
 */
import { BUILT_IN_METRICS, type BuiltInMetric, METRIC_UNITS, type UsageUnit } from './metering/metrics';

/** The name of each built-in metric, as shown on the page, on invoices and in Stripe. */
export const METRIC_LABELS: Readonly<Record<BuiltInMetric, string>> = {
  sms: 'SMS messages',
  sms_segments: 'SMS segments',
  mms: 'MMS messages',
  email: 'Emails',
  call_minutes: 'Call minutes',
  voicemail_drops: 'Voicemail drops',
  whatsapp: 'WhatsApp messages',
  ai_call_minutes: 'Voice AI minutes',
  ai_messages: 'AI messages',
  ai_tokens: 'AI tokens',
  phone_numbers: 'Phone numbers (per month)',
};

/** A built-in metric's label and unit. */
export interface MetricDisplay {
  label: string;
  unit: UsageUnit;
}

/** True for a built-in metric's key. */
export const isBuiltIn = (metric: string): metric is BuiltInMetric => (BUILT_IN_METRICS as readonly string[]).includes(metric);

/** The label and unit of a built-in metric; undefined for any other key (a custom metric). */
export function builtInMetricDisplay(metric: string): MetricDisplay | undefined {
  return isBuiltIn(metric) ? { label: METRIC_LABELS[metric], unit: METRIC_UNITS[metric] } : undefined;
}

/** "SMS messages" for `sms`; any other key (a custom metric) as itself. */
export const metricLabel = (metric: string): string => builtInMetricDisplay(metric)?.label ?? metric;
