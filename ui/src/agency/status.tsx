/**
 * A sub-account's status as one set of badges: billing, or not billing and why (the server's one state:
 * server/billing-setup/billing-state.ts), scheduled (its subscription starts later), delinquent,
 * paused, needs reinstall, failed reports, uninstalled. "Billing" only when nothing else is to say.
 */
import { NOT_BILLING_EXPLAINED, NOT_BILLING_WORDS } from '../../../server/billing-setup/billing-state-words';
import type { SubAccountRow } from '../api';

/** Why a sub-account's usage is not billed in words, or null when it is: the server's state (server/billing-setup/billing-state.ts). */
export function notBillingReason(sub: Pick<SubAccountRow, 'billingState'>): string | null {
  return sub.billingState === 'billing' ? null : NOT_BILLING_WORDS[sub.billingState];
}

/** "On" only when rebilling is on and a Stripe customer is mapped: the same count as the Overview's. */
export function RebillingBadge({ sub }: { sub: SubAccountRow }) {
  if (!sub.rebillingEnabled) return <span className="badge">Off</span>;
  if (!sub.stripeCustomerId) return <span className="badge warn" title="Rebilling is on, but no Stripe customer is mapped: nothing is billed.">On, no customer</span>;
  return <span className="badge ok">On</span>;
}

export function StatusBadges({ sub }: { sub: SubAccountRow }) {
  const badges: Array<{ text: string; tone: 'ok' | 'warn' | 'bad'; title?: string }> = [];
  if (sub.billingState !== 'billing') badges.push({ text: `Not billing: ${NOT_BILLING_WORDS[sub.billingState]}`, tone: 'warn', title: NOT_BILLING_EXPLAINED[sub.billingState] });
  if (sub.needsReinstall) badges.push({ text: 'Needs reinstall', tone: 'bad', title: 'HighLevel refused the app’s token; reinstall Meterbridge in this sub-account.' });
  if (sub.billingStatus === 'delinquent') badges.push({ text: 'Delinquent', tone: 'bad', title: sub.billingStatusReason ?? undefined });
  if (sub.billingStatus === 'action_required') badges.push({ text: 'Payment needs action', tone: 'bad', title: sub.billingStatusReason ?? undefined });
  if (sub.billingStatus === 'paused') badges.push({ text: 'Paused', tone: 'warn', title: sub.billingStatusReason ?? undefined });
  if (sub.scheduled) {
    const day = sub.subscriptionStartsAt ? sub.subscriptionStartsAt.slice(0, 10) : null;
    badges.push({ text: 'Scheduled', tone: 'warn', title: day ? `The Stripe subscription starts on ${day} (UTC).` : 'The Stripe subscription starts later.' });
  }
  if (sub.failedReports > 0) badges.push({ text: `${sub.failedReports} failed report${sub.failedReports === 1 ? '' : 's'}`, tone: 'bad' });
  if (sub.rejectedReports > 0) {
    badges.push({ text: `${sub.rejectedReports} rejected by Stripe`, tone: 'bad', title: 'Stripe refused these meter events after taking them; fix the cause and resend them from the meter-report log.' });
  }
  if (badges.length === 0) badges.push({ text: 'Billing', tone: 'ok', title: 'Usage is sent to Stripe and invoiced by the subscription.' });
  return (
    <span className="badges">
      {badges.map((b) => (
        <span key={b.text} className={`badge ${b.tone}`} title={b.title}>
          {b.text}
        </span>
      ))}
    </span>
  );
}
