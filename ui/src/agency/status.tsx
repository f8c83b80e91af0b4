/**
 * A sub-account's status as one set of badges: billing, or not billing and why (rebilling off, no Stripe customer,
 * shadow mode, no subscription — its units are held), scheduled (its subscription starts later), delinquent,
 * paused, needs reinstall, failed reports, uninstalled. "Billing" only when nothing else is to say.
 */
import type { SubAccountRow } from '../api';

/** Why a sub-account's usage is not billed, or null when it is (the list, the Overview's links and the page agree). */
export function notBillingReason(sub: SubAccountRow): string | null {
  if (!sub.rebillingEnabled) return 'rebilling off';
  if (!sub.stripeCustomerId) return 'no Stripe customer';
  if (sub.billingMode === 'shadow') return 'shadow mode';
  if (!sub.stripeSubscriptionId && !sub.scheduled) return 'no subscription';
  return null;
}

const NOT_BILLING_TITLE: Record<string, string> = {
  'rebilling off': 'Rebilling is switched off: usage is counted, never billed.',
  'no Stripe customer': 'No Stripe customer is mapped: usage is counted but not billed. Map or create one on the sub-account’s page.',
  'shadow mode': 'Shadow mode: what would be billed is computed and kept here, nothing is sent to Stripe.',
  'no subscription': 'No Stripe subscription invoices this usage: its units are held until one does. Create the subscription on the sub-account’s page.',
};

/** "On" only when rebilling is on and a Stripe customer is mapped: the same count as the Overview's. */
export function RebillingBadge({ sub }: { sub: SubAccountRow }) {
  if (!sub.rebillingEnabled) return <span className="badge">Off</span>;
  if (!sub.stripeCustomerId) return <span className="badge warn" title="Rebilling is on, but no Stripe customer is mapped: nothing is billed.">On, no customer</span>;
  return <span className="badge ok">On</span>;
}

export function StatusBadges({ sub }: { sub: SubAccountRow }) {
  const badges: Array<{ text: string; tone: 'ok' | 'warn' | 'bad'; title?: string }> = [];
  if (!sub.installed) badges.push({ text: 'Uninstalled', tone: 'warn' });
  const reason = notBillingReason(sub);
  if (reason) badges.push({ text: `Not billing: ${reason}`, tone: 'warn', title: NOT_BILLING_TITLE[reason] });
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
