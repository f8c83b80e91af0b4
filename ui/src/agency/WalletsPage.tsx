/**
 * The agency's wallets (issue 17): every prepaid sub-account's balance read from Stripe, negative balances first
 * (usage has outrun the credit: the period's invoice will charge the card for the difference), then low ones (below
 * the threshold: a top-up is due), flagged. From a row the agency's admins top up with the card on file, or open the
 * wallet to see its ledger and refund a top-up.
 */
import { useState } from 'react';
import type { AgencyBalances } from '../api-types-wallets';
import { useCanChange } from '../components/permissions';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { formatCents, formatInstant } from '../format';
import { WalletCard } from '../location/WalletCard';
import { Link } from '../router';
import { walletsApi } from '../wallets-api';

type Row = AgencyBalances['wallets'][number];

function Flag({ row }: { row: Row }) {
  if (row.error) return <span className="badge warn">Not read</span>;
  if (row.negative) return <span className="badge bad">Negative</span>;
  if (row.balance?.low) return <span className="badge warn">Low</span>;
  return <span className="badge ok">OK</span>;
}

export function WalletsPage() {
  const balances = useResource(() => walletsApi.balances(), []);
  const canChange = useCanChange();
  const [open, setOpen] = useState<string | null>(null);
  const rows = balances.data?.wallets ?? [];
  const counts = { negative: rows.filter((r) => r.negative).length, low: rows.filter((r) => !r.negative && r.balance?.low).length };
  return (
    <>
      <h1>Wallets</h1>
      <section className="card" aria-labelledby="wallets-title">
        <h2 id="wallets-title">Prepaid balances</h2>
        <p className="muted small">
          Balance = the credit in Stripe less the usage not yet invoiced. Low: below the sub-account’s minimum balance, a top-up is due. Negative: usage has outrun the credit; the
          period’s invoice charges the card for the difference.
        </p>
        {balances.loading && !balances.data ? <Loading label="Reading the balances from Stripe…" /> : null}
        {balances.error ? <ErrorNotice error={balances.error} onRetry={balances.reload} /> : null}
        {balances.data && rows.length === 0 ? <Empty>No sub-account is on a prepaid wallet yet. Choose the prepaid mode in a sub-account’s wallet settings.</Empty> : null}
        {rows.length > 0 ? (
          <>
            <p data-testid="wallet-counts">
              {rows.length} prepaid wallet{rows.length === 1 ? '' : 's'}: <strong>{counts.negative} negative</strong>, <strong>{counts.low} low</strong>.
            </p>
            <div className="table-wrap">
              <table data-testid="wallet-balances">
                <thead>
                  <tr>
                    <th>Sub-account</th>
                    <th className="num">Balance</th>
                    <th className="num">Minimum</th>
                    <th>State</th>
                    <th>Last top-up</th>
                    <th>
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={row.locationId} className={row.negative ? 'flag-bad' : row.balance?.low ? 'flag-warn' : undefined}>
                      <td>
                        <Link to={`/sub-accounts/${encodeURIComponent(row.locationId)}`}>{row.name ?? row.locationId}</Link>
                      </td>
                      <td className="num" title={row.error ?? undefined}>
                        {row.balance ? formatCents(row.balance.balanceCents, row.balance.currency) : '—'}
                      </td>
                      <td className="num">{formatCents(row.thresholdCents, row.balance?.currency)}</td>
                      <td>
                        <Flag row={row} />
                      </td>
                      <td className="small">
                        {row.lastTopUp ? `${formatCents(row.lastTopUp.amountCents, row.lastTopUp.currency)}, ${formatInstant(row.lastTopUp.createdAt)}${row.lastTopUp.status === 'payment_failed' ? ' — declined' : ''}` : 'none'}
                      </td>
                      <td>
                        <button type="button" className="button secondary small" aria-expanded={open === row.locationId} onClick={() => setOpen(open === row.locationId ? null : row.locationId)}>
                          {open === row.locationId ? 'Close' : canChange ? 'Top up or refund' : 'Details'}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </section>
      {open ? (
        <div data-testid="wallet-details">
          <h2>{rows.find((r) => r.locationId === open)?.name ?? open}</h2>
          <WalletCard key={open} locationId={open} canAct={canChange} audience="agency" />
          <button type="button" className="button secondary" onClick={balances.reload}>
            Refresh the balances
          </button>
        </div>
      ) : null}
    </>
  );
}
