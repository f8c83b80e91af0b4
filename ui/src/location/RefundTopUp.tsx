/**
 * Refunding a top-up (the agency's admins): reads what may be refunded now and says why — never more than the unused
 * part of that top-up: what remains of its credit in Stripe, no more than the wallet's balance once the usage not yet
 * invoiced is counted (that usage has spent the credit already), and what was paid less earlier refunds.
 */
import { useState } from 'react';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { centsToMajor, formatCents, majorToCents } from '../format';
import { walletsApi } from '../wallets-api';

export function RefundTopUp({ locationId, topUpId, onClose, onRefunded }: { locationId: string; topUpId: number; onClose: () => void; onRefunded: () => void }) {
  const refundable = useResource(() => walletsApi.refundable(locationId, topUpId), [locationId, topUpId]);
  const [amount, setAmount] = useState<string | null>(null);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  if (refundable.loading && !refundable.data) return <Loading label="Reading the top-up’s credit from Stripe…" />;
  if (refundable.error) return <ErrorNotice error={refundable.error} onRetry={refundable.reload} />;
  const r = refundable.data!;
  const money = (cents: number) => formatCents(cents, r.currency);
  const typed = amount ?? centsToMajor(String(r.refundableCents));
  const refund = async () => {
    const cents = majorToCents(typed);
    if (!cents || cents.includes('.') || cents === '0') return setState({ error: new Error('Type an amount in whole cents at most.') });
    setState({ busy: true });
    try {
      const { refund: done } = await walletsApi.refund(locationId, topUpId, Number(cents));
      setState({ message: done.status === 'refunded' ? `${money(done.amountCents)} refunded to the card.` : `Refund in progress: ${done.error ?? 'Stripe has not confirmed it yet'}.` });
      onRefunded();
      refundable.reload();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <div className="card inset" role="group" aria-label={`Refund top-up #${topUpId}`} data-testid="refund-top-up">
      <h3>Refund top-up #{topUpId}</h3>
      <p className="small">
        At most <strong data-testid="refundable">{money(r.refundableCents)}</strong> can be refunded now: the unused part of this top-up. That is the least of what remains of its
        credit in Stripe ({money(r.grantRemainingCents)}), the wallet’s balance after the usage not yet invoiced ({money(r.balanceCents)} — that usage has already spent the
        credit) and what was paid for it less earlier refunds ({money(r.paidLeftCents)}).
      </p>
      <p className="muted small">The refund goes back to the card that paid; the top-up’s credit is withdrawn from Stripe and the part not refunded is credited again.</p>
      {r.refundableCents > 0 ? (
        <div className="inline amount-row">
          <label htmlFor={`refund-amount-${topUpId}`}>Amount</label>
          <input id={`refund-amount-${topUpId}`} className="short" inputMode="decimal" value={typed} onChange={(e) => setAmount(e.target.value)} />
          <button type="button" className="button danger" onClick={refund} disabled={state.busy}>
            {state.busy ? 'Refunding…' : 'Refund to the card'}
          </button>
          <button type="button" className="button secondary" onClick={onClose}>
            Close
          </button>
        </div>
      ) : (
        <p className="inline">
          <span>Nothing of this top-up is left to refund.</span>
          <button type="button" className="button secondary" onClick={onClose}>
            Close
          </button>
        </p>
      )}
      {state.message ? <p className="notice notice-ok">{state.message}</p> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </div>
  );
}
