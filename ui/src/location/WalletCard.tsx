/**
 * A sub-account's prepaid wallet (issue 17), for the client's own view and the agency's pages: the balance (Stripe's
 * credit less the usage not yet invoiced, in cents), a low-balance notice, "Top up now" and the ledger of top-ups and
 * refunds. The client (its admins, `canAct`) pays a top-up on Stripe Checkout in a new tab; the credit appears once
 * Stripe confirms the payment. The agency (its admins) charges the card on file, and refunds the unused part of a top-up
 * (RefundTopUp). Shows nothing for a postpaid sub-account.
 */
import { useState } from 'react';
import type { TopUp, Wallet } from '../api-types-wallets';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { centsToMajor, formatCents, formatInstant, majorToCents } from '../format';
import { walletsApi } from '../wallets-api';
import { RefundTopUp } from './RefundTopUp';

const STATUS_LABEL: Record<TopUp['status'], string> = {
  pending: 'Charging…',
  paid: 'Paid, crediting…',
  granted: 'Credited',
  payment_failed: 'Card declined',
  failed: 'Failed',
};
const TRIGGER_LABEL: Record<TopUp['trigger'], string> = { manual: 'Top up now', auto: 'Automatic', initial: 'First top-up', checkout: 'Paid on Stripe' };

export function WalletCard({ locationId, canAct, audience }: { locationId: string; canAct: boolean; audience: 'client' | 'agency' }) {
  const wallet = useResource(() => walletsApi.wallet(locationId), [locationId]);
  if (wallet.loading && !wallet.data) return <Loading label="Reading the wallet from Stripe…" />;
  if (wallet.error) return <ErrorNotice error={wallet.error} onRetry={wallet.reload} />;
  const data = wallet.data;
  if (!data || data.billingMode !== 'prepaid') return null;
  const { balance } = data;
  return (
    <section className="card" aria-labelledby={`wallet-title-${locationId}`} data-testid="wallet">
      <h2 id={`wallet-title-${locationId}`}>
        Wallet{' '}
        {balance && balance.balanceCents < 0 ? (
          <span className="badge bad">Negative balance</span>
        ) : balance?.low ? (
          <span className="badge warn">Low balance</span>
        ) : balance ? (
          <span className="badge ok">Prepaid</span>
        ) : null}
      </h2>
      {balance ? (
        <>
          <p className="stat-value" data-testid="wallet-balance">{formatCents(balance.balanceCents, balance.currency)}</p>
          <p className="muted small">
            {formatCents(balance.creditCents, balance.currency)} of credit in Stripe, less {formatCents(balance.unbilledUsageCents, balance.currency)} of usage not yet invoiced.
          </p>
          {balance.low && data.settings ? (
            <p className="notice notice-error">The balance is below {formatCents(data.settings.thresholdCents, balance.currency)}: a top-up of the card on file is due.</p>
          ) : null}
        </>
      ) : (
        <p className="muted">No balance yet: the sub-account needs a Stripe customer and wallet settings.</p>
      )}
      {canAct && balance ? <TopUpNow locationId={locationId} wallet={data} audience={audience} onDone={wallet.reload} /> : null}
      {!canAct && balance && audience === 'client' ? <p className="muted small">Ask an admin of your account to top up the wallet.</p> : null}
      <Ledger locationId={locationId} wallet={data} canRefund={canAct && audience === 'agency'} onChanged={wallet.reload} />
    </section>
  );
}

/** "Top up now": the client pays on Stripe Checkout; the agency charges the card on file. */
function TopUpNow({ locationId, wallet, audience, onDone }: { locationId: string; wallet: Wallet; audience: 'client' | 'agency'; onDone: () => void }) {
  const currency = wallet.balance!.currency;
  const [amount, setAmount] = useState(centsToMajor(String(wallet.settings?.topUpCents ?? '')));
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const go = async () => {
    const cents = majorToCents(amount);
    if (!cents || cents.includes('.') || cents === '0') return setState({ error: new Error('Type an amount in whole cents at most, e.g. 20 or 20.50.') });
    // A tab opened before the request keeps the browser's pop-up blocker out of the way.
    const tab = audience === 'client' ? window.open('', '_blank') : null;
    setState({ busy: true });
    try {
      if (tab) {
        const page = await walletsApi.checkout(locationId, Number(cents));
        tab.location.href = page.url;
        setState({ message: `Pay ${formatCents(page.amountCents, currency)} on Stripe’s page (open for about 30 minutes). The credit appears here as soon as Stripe confirms the payment.` });
      } else {
        const { topUp } = await walletsApi.topUp(locationId, Number(cents));
        setState(topUp.error ? { error: new Error(topUp.error) } : { message: `${formatCents(topUp.amountCents, currency)}: ${STATUS_LABEL[topUp.status].toLowerCase()}.` });
        onDone();
      }
    } catch (error) {
      tab?.close();
      setState({ error });
    }
  };
  const max = wallet.settings ? formatCents(wallet.settings.maxBalanceCents, currency) : null;
  return (
    <div className="stack">
      <div className="inline amount-row">
        <label htmlFor={`top-up-amount-${locationId}`}>Amount</label>
        <input id={`top-up-amount-${locationId}`} className="short" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
        <button type="button" className="button" onClick={go} disabled={state.busy}>
          {state.busy ? 'Working…' : audience === 'client' ? 'Top up now' : 'Top up now (card on file)'}
        </button>
        {audience === 'client' && state.message ? (
          <button type="button" className="button secondary" onClick={onDone}>
            Refresh
          </button>
        ) : null}
      </div>
      {max ? <p className="muted small">A top-up never takes the balance above {max}{wallet.settings?.monthlyCapCents ? `, nor this month’s top-ups above ${formatCents(wallet.settings.monthlyCapCents, currency)}` : ''}.</p> : null}
      {state.message ? <p className="notice notice-ok">{state.message}</p> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </div>
  );
}

/** The wallet ledger: top-ups (with Refund for the agency's admins) and refunds, newest first. */
function Ledger({ locationId, wallet, canRefund, onChanged }: { locationId: string; wallet: Wallet; canRefund: boolean; onChanged: () => void }) {
  const [refunding, setRefunding] = useState<number | null>(null);
  if (!wallet.topUps.length) return null;
  return (
    <>
      <h3>Top-ups</h3>
      <div className="table-wrap">
        <table className="small">
          <thead>
            <tr>
              <th>When</th>
              <th>How</th>
              <th className="num">Amount</th>
              <th>Status</th>
              {canRefund ? <th>Refund</th> : null}
            </tr>
          </thead>
          <tbody>
            {wallet.topUps.slice(0, 10).map((t) => (
              <tr key={t.id}>
                <td>{formatInstant(t.createdAt)}</td>
                <td>{TRIGGER_LABEL[t.trigger]}</td>
                <td className="num">{formatCents(t.amountCents, t.currency)}</td>
                <td title={t.error ?? undefined}>{STATUS_LABEL[t.status]}</td>
                {canRefund ? (
                  <td>
                    {t.status === 'granted' ? (
                      <button type="button" className="button secondary small" aria-label={`Refund the top-up of ${formatCents(t.amountCents, t.currency)}`} onClick={() => setRefunding(t.id)}>
                        Refund…
                      </button>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {refunding !== null ? (
        <RefundTopUp key={refunding} locationId={locationId} topUpId={refunding} onClose={() => setRefunding(null)} onRefunded={onChanged} />
      ) : null}
      {wallet.refunds.length ? (
        <>
          <h3>Refunds</h3>
          <ul className="ledger-list small" data-testid="wallet-refunds">
            {wallet.refunds.map((r) => (
              <li key={r.id} title={r.error ?? undefined}>
                {formatInstant(r.createdAt)}: {formatCents(r.amountCents, r.currency)} of top-up #{r.topUpId} —{' '}
                {r.status === 'refunded' ? 'refunded to the card' : r.status === 'pending' ? 'in progress' : 'failed: settle it in Stripe'}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
