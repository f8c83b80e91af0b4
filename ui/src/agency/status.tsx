/** A sub-account's status as one set of badges: ok, delinquent, paused, needs reinstall, failed reports, uninstalled. */
import type { SubAccountRow } from '../api';

export function StatusBadges({ sub }: { sub: SubAccountRow }) {
  const badges: Array<{ text: string; tone: 'ok' | 'warn' | 'bad'; title?: string }> = [];
  if (!sub.installed) badges.push({ text: 'Uninstalled', tone: 'warn' });
  if (sub.needsReinstall) badges.push({ text: 'Needs reinstall', tone: 'bad', title: 'HighLevel refused the app’s token; reinstall Meterbridge in this sub-account.' });
  if (sub.billingStatus === 'delinquent') badges.push({ text: 'Delinquent', tone: 'bad', title: sub.billingStatusReason ?? undefined });
  if (sub.billingStatus === 'action_required') badges.push({ text: 'Payment needs action', tone: 'bad', title: sub.billingStatusReason ?? undefined });
  if (sub.billingStatus === 'paused') badges.push({ text: 'Paused', tone: 'warn', title: sub.billingStatusReason ?? undefined });
  if (sub.failedReports > 0) badges.push({ text: `${sub.failedReports} failed report${sub.failedReports === 1 ? '' : 's'}`, tone: 'bad' });
  if (badges.length === 0) badges.push({ text: 'OK', tone: 'ok' });
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
