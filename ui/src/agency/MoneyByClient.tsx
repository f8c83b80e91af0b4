/**
 * One month's money per client (GET /api/money/sub-accounts): billed, HighLevel cost and margin per sub-account, the
 * month's totals, largest billed first; the month picked among the last six (UTC calendar months).
 */
import { useState } from 'react';
import type { AgencyMoney } from '../api-types-money';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { MoneyHead } from '../components/MoneyHead';
import { useResource } from '../components/useResource';
import { formatCents } from '../format';
import { moneyApi } from '../money-api';
import { Link } from '../router';
import { monthName } from './MoneyCockpit';

export function MoneyByClient({ months }: { months: AgencyMoney['months'] | undefined }) {
  const choices = [...(months ?? [])].map((m) => m.month).reverse();
  const [picked, setPicked] = useState<string | null>(null);
  const month = picked ?? choices[0];
  const rows = useResource(() => (month ? moneyApi.subAccounts(month) : Promise.resolve(null)), [month]);
  const r = rows.data;
  const c = (cents: number) => formatCents(cents, r?.currency ?? 'usd');
  const items = [...(r?.items ?? [])].sort((a, b) => b.billedCents - a.billedCents || a.costCents - b.costCents);
  return (
    <section className="card" aria-labelledby="by-client-title" data-testid="money-by-client">
      <div className="card-head">
        <h2 id="by-client-title">By client</h2>
        {choices.length > 0 ? (
          <span className="inline">
            <label htmlFor="by-client-month">Month</label>
            <select id="by-client-month" value={month} onChange={(e) => setPicked(e.target.value)}>
              {choices.map((m) => (
                <option key={m} value={m}>
                  {monthName(m, 'long')}
                </option>
              ))}
            </select>
          </span>
        ) : null}
      </div>
      {rows.loading && !r ? <Loading /> : null}
      {rows.error ? <ErrorNotice error={rows.error} onRetry={rows.reload} /> : null}
      {r && items.length === 0 ? <Empty>No client was billed or used anything in {monthName(r.month, 'long')}.</Empty> : null}
      {r && items.length > 0 ? (
        <div className="table-wrap" aria-busy={rows.loading}>
          <table className="money-clients">
            <caption className="visually-hidden">Money per client, {monthName(r.month, 'long')}</caption>
            <MoneyHead first="Sub-account" columns={['Billed', 'HighLevel cost', 'Margin']} />
            <tbody>
              {items.map((i) => (
                <tr key={i.locationId} data-location={i.locationId}>
                  <th scope="row">
                    <Link to={`/sub-accounts/${encodeURIComponent(i.locationId)}`}>{i.name ?? i.locationId}</Link>
                  </th>
                  <td className="num" title={`Invoiced ${c(i.invoicedCents)}, upcoming ${c(i.upcomingCents)}`}>{c(i.billedCents)}</td>
                  <td className="num">{c(i.costCents)}</td>
                  <td className={`num${i.marginCents < 0 ? ' negative' : ''}`}>{c(i.marginCents)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All clients</th>
                <td className="num">{c(r.totals.billedCents)}</td>
                <td className="num">{c(r.totals.costCents)}</td>
                <td className={`num${r.totals.marginCents < 0 ? ' negative' : ''}`}>{c(r.totals.marginCents)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      ) : null}
    </section>
  );
}
