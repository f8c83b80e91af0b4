/**
 * The alert kinds: each one's outbound webhook event type (`type` in the Standard Webhooks payload) and the HighLevel
 * marketplace workflow trigger it fires, if any (server/highlevel/marketplace-modules.ts registers the triggers).
 */
import type { AlertKind } from '../../models/schema';

export { ALERT_KINDS, type AlertKind } from '../../models/schema';

/** The keys of Meterbridge's marketplace workflow triggers, as defined in HighLevel's developer portal. */
export const TRIGGER_KEYS = {
  paymentFailed: 'meterbridge_payment_failed',
  paymentRecovered: 'meterbridge_payment_recovered',
  cardMissing: 'meterbridge_card_missing',
  usageAlert: 'meterbridge_usage_alert',
  walletLow: 'meterbridge_wallet_low',
} as const;
export type TriggerKey = (typeof TRIGGER_KEYS)[keyof typeof TRIGGER_KEYS];

/** One kind: its webhook event type, its workflow trigger (null: none), and what the agency reads. */
export interface KindInfo {
  eventType: string;
  trigger: TriggerKey | null;
  label: string;
}

/**
 * Per kind. A payment that needs the client's authentication fires "Payment failed" too (the payment did not go
 * through; `status` in the payload says `action_required`), an expiring card fires "Card missing" (`reason`
 * `expiring`). A rejected meter batch and a reconciliation drift are the agency's own operations: no workflow trigger.
 */
export const KINDS: Record<AlertKind, KindInfo> = {
  payment_failed: { eventType: 'payment.failed', trigger: TRIGGER_KEYS.paymentFailed, label: 'Payment failed' },
  payment_action_required: { eventType: 'payment.action_required', trigger: TRIGGER_KEYS.paymentFailed, label: 'Payment needs the client’s action' },
  payment_recovered: { eventType: 'payment.recovered', trigger: TRIGGER_KEYS.paymentRecovered, label: 'Payment recovered' },
  card_missing: { eventType: 'card.missing', trigger: TRIGGER_KEYS.cardMissing, label: 'No card on file' },
  card_expiring: { eventType: 'card.expiring', trigger: TRIGGER_KEYS.cardMissing, label: 'Card expiring' },
  meter_batch_rejected: { eventType: 'meter_batch.rejected', trigger: null, label: 'Meter batch rejected' },
  reconciliation_drift: { eventType: 'reconciliation.drift', trigger: null, label: 'Reconciliation drift' },
  usage_threshold: { eventType: 'usage.threshold_crossed', trigger: TRIGGER_KEYS.usageAlert, label: 'Usage alert' },
  wallet_low: { eventType: 'wallet.low', trigger: TRIGGER_KEYS.walletLow, label: 'Wallet low' },
};

