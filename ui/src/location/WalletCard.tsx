/**
 * A sub-account's prepaid wallet (issue 17), for the client's own view and the agency's sub-account page: the balance
 * (Stripe's credit less the usage not yet invoiced, in cents), a low-balance notice, "Top up now" (the card on file is
 * charged; only for those who may, `canTopUp`) and the latest top-ups. Shows nothing for a postpaid sub-account.
 */
import { useState } from 'react';
import type { TopUp } from '../api-types-wallets';
import { ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents, formatInstant } from '../format';
import { walletsApi } from '../wallets-api';

const STATUS_LABEL: Record<TopUp['status'], string> = {
  pending: 'Charging…',
  paid: 'Paid, crediting…',
  granted: 'Credited',
  payment_failed: 'Card declined',
  failed: 'Failed',
};

export function WalletCard({ locationId, canTopUp }: { locationId: string; canTopUp: boolean }) {
  const wallet = useResource(() => walletsApi.wallet(locationId), [locationId]);
  const [action, setAction] = useState<{ busy?: boolean; error?: unknown; result?: TopUp }>({});
  if (wallet.loading && !wallet.data) return <Loading label="Reading the wallet from Stripe…" />;
  if (wallet.error) return <ErrorNotice error={wallet.error} onRetry={wallet.reload} />;
  const data = wallet.data;
  if (!data || data.billingMode !== 'prepaid') return null;
  const { balance } = data;
  const topUp = async () => {
    setAction({ busy: true });
    try {
      const { topUp: result } = await walletsApi.topUp(locationId);
      setAction({ result });
      wallet.reload();
    } catch (error) {
      setAction({ error });
    }
  };
  return (
    <section className="card" aria-labelledby="wallet-title" data-testid="wallet">
      <h2 id="wallet-title">
        Wallet {balance?.low ? <span className="badge warn">Low balance</span> : balance ? <span className="badge ok">Prepaid</span> : null}
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
      {canTopUp && balance ? (
        <button type="button" className="button" onClick={topUp} disabled={action.busy}>
          {action.busy ? 'Charging the card…' : `Top up now${data.settings ? ` (${formatCents(data.settings.topUpCents, balance.currency)})` : ''}`}
        </button>
      ) : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
      {action.result?.error ? <p className="notice notice-error">{action.result.error}</p> : null}
      {data.topUps.length ? (
        <table className="table small">
          <thead>
            <tr>
              <th>When</th>
              <th>Amount</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {data.topUps.slice(0, 10).map((t) => (
              <tr key={t.id}>
                <td>{formatInstant(t.createdAt)}</td>
                <td>{formatCents(t.amountCents, t.currency)}</td>
                <td title={t.error ?? undefined}>{STATUS_LABEL[t.status]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
