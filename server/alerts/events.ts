/**
 * The events Meterbridge alerts on, each turned into an alert (title, message, facts, dedupe key) and raised through
 * the caller's executor (server/alerts/raise.ts) — inside the transaction of the state change when there is one.
 * Dedupe keys: payment failed `payment_failed:<invoice>:<attempt count>` (each Stripe retry that fails is a new event;
 * the same event delivered twice is not), action required `payment_action_required:<invoice>:<attempt count>`,
 * recovered `payment_recovered:<invoice>`, card missing `card_missing:<sub-account>:<YYYY-MM>` (once a month),
 * card expiring `card_expiring:<payment method>:<YYYY-MM of expiry>`, meter batch `meter_batch_rejected:<batch>`,
 * drift `reconciliation_drift:<run>`, usage `usage_threshold:<sub-account>:<metric>:<period start>`, wallet low
 * `wallet_low:<sub-account>:<top-up or balance check id>`.
 */
import type { Executor } from '../../models/database';
import type { BillingStatus, PaymentProblem } from '../../models/schema';
import { metricLabel } from '../metering/custom-metrics';
import { type Raised, raiseAlert } from './raise';

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

/** A sub-account's payment status changed (server/stripe/payment-events.ts), with the invoice behind it. */
export interface PaymentStatusChange {
  companyId: string;
  locationId: string;
  subAccountName: string | null;
  previous: BillingStatus;
  next: BillingStatus;
  /** The failed or waiting invoice (null when paid). */
  problem: PaymentProblem | null;
  invoiceId: string;
}

/**
 * Raises payment failed / action required / recovered for a status change; nothing for other changes.
 * @returns what was raised, or null.
 */
export async function alertPaymentStatus(db: Executor, change: PaymentStatusChange): Promise<Raised | null> {
  const who = change.subAccountName ?? change.locationId;
  const base = { companyId: change.companyId, locationId: change.locationId };
  const p = change.problem;
  if (change.next === 'delinquent' && p) {
    return raiseAlert(db, {
      ...base, kind: 'payment_failed', dedupeKey: `payment_failed:${p.invoiceId}:${p.attemptCount}`,
      title: `Payment failed: ${who}`,
      message: `Invoice ${p.invoiceNumber ?? p.invoiceId} (${money(p.amountDueCents, p.currency)}) failed after ${p.attemptCount} attempt${p.attemptCount === 1 ? '' : 's'}` +
        `${p.failureMessage ? `: ${p.failureMessage}` : '.'}${p.nextPaymentAttempt ? ` Stripe retries on ${p.nextPaymentAttempt.slice(0, 10)}.` : ''}`,
      data: { status: 'failed', subAccountName: change.subAccountName, ...p },
    });
  }
  if (change.next === 'action_required' && p) {
    return raiseAlert(db, {
      ...base, kind: 'payment_action_required', dedupeKey: `payment_action_required:${p.invoiceId}:${p.attemptCount}`,
      title: `Payment needs the client’s action: ${who}`,
      message: `The client must confirm the payment of invoice ${p.invoiceNumber ?? p.invoiceId} (${money(p.amountDueCents, p.currency)}), e.g. card authentication.`,
      data: { status: 'action_required', subAccountName: change.subAccountName, ...p },
    });
  }
  if (change.next === 'ok' && (change.previous === 'delinquent' || change.previous === 'action_required')) {
    return raiseAlert(db, {
      ...base, kind: 'payment_recovered', dedupeKey: `payment_recovered:${change.invoiceId}`,
      title: `Payment recovered: ${who}`,
      message: `Invoice ${change.invoiceId} is paid; the sub-account is back in good standing.`,
      data: { status: 'paid', subAccountName: change.subAccountName, invoiceId: change.invoiceId },
    });
  }
  return null;
}

/**
 * A usage or spend threshold crossed in a billing period. `used`/`limit` are units, or cents for `spend`. The message
 * names the metric by its label ("120 SEO reports": server/metering/custom-metrics.ts `metricLabel`, a custom metric's
 * label is the agency's); `data.metric` keeps the key for machines (webhook and workflow-trigger payloads).
 */
export async function alertUsageThreshold(
  db: Executor,
  input: { companyId: string; locationId: string; subAccountName: string | null; metric: string; used: string; limit: string; periodStart: string; currency?: string },
): Promise<Raised> {
  const who = input.subAccountName ?? input.locationId;
  const spend = input.metric === 'spend';
  const label = spend ? '' : await metricLabel(db, input.companyId, input.metric);
  const amount = (v: string) => (spend ? money(Number(v), input.currency ?? 'usd') : `${v} ${label}`);
  return raiseAlert(db, {
    companyId: input.companyId, locationId: input.locationId, kind: 'usage_threshold',
    dedupeKey: `usage_threshold:${input.locationId}:${input.metric}:${input.periodStart.slice(0, 10)}`,
    title: spend ? `Spend alert: ${who}` : `Usage alert: ${who}`,
    message: `${spend ? 'Estimated charges' : 'Usage'} this period reached ${amount(input.used)}, over the alert threshold of ${amount(input.limit)}.`,
    data: { metric: input.metric, used: input.used, threshold: input.limit, periodStart: input.periodStart, subAccountName: input.subAccountName, ...(spend ? { currency: input.currency ?? 'usd' } : {}) },
  });
}

/**
 * "Wallet low" (issue 17): a prepaid sub-account's balance fell below its minimum. For server/wallets to call where it
 * sees the balance under the threshold, through its own transaction when it has one; `checkId` names that check
 * (e.g. the latest top-up before the balance fell), so the same low spell is alerted once.
 */
/** A prepaid wallet found below its minimum: balance and minimum in cents; `checkId` names the low spell. */
export interface WalletLow {
  companyId: string;
  locationId: string;
  subAccountName?: string | null;
  balanceCents: number;
  thresholdCents: number;
  currency: string;
  checkId: string;
}

export function alertWalletLow(db: Executor, input: WalletLow): Promise<Raised> {
  const who = input.subAccountName ?? input.locationId;
  return raiseAlert(db, {
    companyId: input.companyId, locationId: input.locationId, kind: 'wallet_low', dedupeKey: `wallet_low:${input.locationId}:${input.checkId}`,
    title: `Wallet low: ${who}`,
    message: `The prepaid wallet holds ${money(input.balanceCents, input.currency)}, below its minimum of ${money(input.thresholdCents, input.currency)}.`,
    data: { balanceCents: input.balanceCents, thresholdCents: input.thresholdCents, currency: input.currency, subAccountName: input.subAccountName ?? null },
  });
}
