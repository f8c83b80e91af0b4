/**
 * Money over the last months on the Overview: the chart (billed vs HighLevel cost vs margin), the same figures as a
 * table, and the "agency cost vs rebilled" CSV download (GET /api/money/export.csv).
 */
import { lazy, Suspense } from 'react';
import type { AgencyMoney } from '../api-types-money';
import { ErrorNotice, Loading } from '../components/States';
import { MoneyHead } from '../components/MoneyHead';
import type { Resource } from '../components/useResource';
import { formatCents } from '../format';
import { moneyApi } from '../money-api';
import { DownloadButton } from '../usage/UsagePanel';
import { monthName } from './MoneyCockpit';

const MoneyChart = lazy(() => import('./MoneyChart'));

export function MoneyByMonth({ money }: { money: Resource<AgencyMoney> }) {
  const m = money.data;
  return (
    <section className="card" aria-labelledby="by-month-title" data-testid="money-by-month">
      <div className="card-head">
        <h2 id="by-month-title">Billed vs HighLevel cost, by month</h2>
        <DownloadButton run={() => moneyApi.downloadCsv(12)} label="Download CSV (12 months)" />
      </div>
      {money.loading && !m ? <Loading /> : null}
      {money.error ? <ErrorNotice error={money.error} onRetry={money.reload} /> : null}
      {m ? (
        <>
          <Suspense fallback={<Loading label="Loading the chart…" />}>
            <MoneyChart money={m} />
          </Suspense>
          <div className="table-wrap">
            <table className="money-months">
              <caption className="visually-hidden">Money per month, {m.currency.toUpperCase()}</caption>
              <MoneyHead first="Month" columns={['Invoiced', 'Upcoming', 'Billed', 'HighLevel cost', 'Margin']} />
              <tbody>
                {[...m.months].reverse().map((row) => (
                  <tr key={row.month} data-month={row.month}>
                    <th scope="row">{monthName(row.month, 'long')}</th>
                    <td className="num">{formatCents(row.invoicedCents, m.currency)}</td>
                    <td className="num">{formatCents(row.upcomingCents, m.currency)}</td>
                    <td className="num">{formatCents(row.billedCents, m.currency)}</td>
                    <td className="num">{formatCents(row.costCents, m.currency)}</td>
                    <td className={`num${row.marginCents < 0 ? ' negative' : ''}`}>{formatCents(row.marginCents, m.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">{m.monthRule}</p>
        </>
      ) : null}
    </section>
  );
}
