/**
 * A sub-account's suspension for non-payment, for the agency: on its page, the state ("Suspended for non-payment
 * since …", paused in HighLevel or HighLevel's refusal), the invoice link to send the client, and "Resume now" for
 * agency admins; in the list, the same as badges.
 */
import { useState } from 'react';
import type { SuspensionState } from '../api-types-suspension';
import { ConfirmedAction } from '../components/ConfirmedAction';
import { Writes } from '../components/permissions';
import { ErrorNotice, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant } from '../format';
import { suspensionApi } from '../suspension-api';

/** What HighLevel did, in words; null when no pause was asked for. */
export function highLevelText(s: SuspensionState): { text: string; tone: 'ok' | 'warn' | 'bad' } | null {
  const at = s.highLevel.at ? ` (${formatInstant(s.highLevel.at)})` : '';
  switch (s.highLevel.state) {
    case 'paused':
      return { text: `Paused in HighLevel${at}`, tone: 'warn' };
    case 'pause_failed':
      return { text: `HighLevel refused the pause: ${s.highLevel.error ?? 'no message'}`, tone: 'bad' };
    case 'resumed':
      return { text: `Resumed in HighLevel${at}`, tone: 'ok' };
    case 'resume_failed':
      return { text: `HighLevel refused to resume it: ${s.highLevel.error ?? 'no message'}`, tone: 'bad' };
    default:
      return null;
  }
}

/** The list's badges for one sub-account (nothing when it has no suspension worth showing). */
export function SuspensionBadges({ suspension }: { suspension: SuspensionState | undefined }) {
  if (!suspension) return null;
  const hl = highLevelText(suspension);
  return (
    <>
      {suspension.active ? (
        <span className="badge bad" data-testid="suspended-badge" title={suspension.summary}>
          Suspended since {formatInstant(suspension.suspendedAt)}
        </span>
      ) : null}
      {hl && hl.tone !== 'ok' ? (
        <span className={`badge ${hl.tone}`} data-testid="highlevel-pause-badge" title={hl.text}>
          {hl.tone === 'bad' ? 'HighLevel error' : 'Paused in HighLevel'}
        </span>
      ) : null}
    </>
  );
}

/** The card on the sub-account's page; rendered only when the sub-account has (or had) a suspension. */
/** @param invoiceLinkShown the invoice link the page already shows (the payment problem's): not repeated here. */
export function SuspensionCard({ locationId, invoiceLinkShown, onResumed }: { locationId: string; invoiceLinkShown?: string | null; onResumed?: () => void }) {
  const loaded = useResource(() => suspensionApi.subAccount(locationId), [locationId]);
  const [message, setMessage] = useState<string | null>(null);
  const s = loaded.data?.suspension;
  if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  if (!s) return null;
  const hl = highLevelText(s);
  const resume = async () => {
    const next = await suspensionApi.resumeNow(locationId);
    loaded.set(next);
    setMessage(next.suspension?.highLevel.state === 'resume_failed' ? 'Billing resumed; HighLevel refused to resume the sub-account (see above).' : 'Resumed: held usage goes to Stripe now.');
    onResumed?.();
  };
  return (
    <section className={`card ${s.active ? 'state-error' : ''}`} aria-labelledby="suspension-state-title" data-testid="suspension-card">
      <h2 id="suspension-state-title">{s.active ? 'Suspended for non-payment' : 'Last suspension'}</h2>
      <p data-testid="suspension-summary">{s.summary}</p>
      {hl ? (
        <p className={hl.tone === 'bad' ? 'notice notice-error' : ''} data-testid="suspension-highlevel">
          {hl.text}
        </p>
      ) : s.active ? (
        <p className="muted small">Billing is stopped; the sub-account is not paused in HighLevel (policy “stop billing”).</p>
      ) : null}
      {s.active && s.hostedInvoiceUrl && s.hostedInvoiceUrl !== invoiceLinkShown ? (
        <p>
          Unpaid invoice:{' '}
          <a href={s.hostedInvoiceUrl} target="_blank" rel="noreferrer">
            {s.invoiceId ?? 'open the invoice'}
          </a>{' '}
          (send this link to the client; paying it resumes the sub-account).
        </p>
      ) : s.active && invoiceLinkShown ? (
        <p className="small">Paying the unpaid invoice (link above) resumes it by itself.</p>
      ) : null}
      {s.active || s.highLevel.state === 'resume_failed' ? (
        <Writes>
          <ConfirmedAction
            label={s.active ? 'Resume now' : 'Resume in HighLevel again'}
            ariaLabel={s.active ? 'Resume this sub-account now' : 'Ask HighLevel again to resume this sub-account'}
            question={s.active ? 'Resume billing (held usage is billed now) and the sub-account in HighLevel, although the invoice is unpaid?' : 'Ask HighLevel again?'}
            confirmLabel="Yes, resume"
            groupLabel="Confirm resuming the sub-account"
            run={resume}
          />
        </Writes>
      ) : null}
      {message ? <Notice>{message}</Notice> : null}
    </section>
  );
}
