/**
 * Usage in money per metric: the billed units' amount at the prices in force, HighLevel's cost, the margin, and a
 * totals row that adds money only (units of different metrics are never added: the row leaves them out).
 */
import type { Usage } from '../api';
import type { UsageAmounts } from '../api-types-money';
import { MoneyHead } from '../components/MoneyHead';
import { formatCents, formatNumber, metricLabel } from '../format';

export function AmountsTable({ usage, amounts }: { usage: Usage; amounts: UsageAmounts }) {
  const units = new Map(usage.totals.map((t) => [t.metric, t.unitsBilled]));
  const c = (cents: number) => formatCents(cents, amounts.currency);
  return (
    <div className="table-wrap">
      <table className="amounts">
        <caption>In money, {amounts.currency.toUpperCase()} (estimate at the prices in force; Stripe’s invoice is the truth)</caption>
        <MoneyHead first="Metric" columns={['Units billed', 'Amount', 'HighLevel cost', 'Margin']} />
        <tbody>
          {amounts.totals.map((t) => (
            <tr key={t.metric} data-metric={t.metric}>
              <th scope="row">{metricLabel(t.metric)}</th>
              <td className="num">{formatNumber(units.get(t.metric) ?? 0)}</td>
              <td className="num" title={t.priced ? undefined : 'Some billed units have no price in force.'}>
                {c(t.amountCents)}
                {t.priced ? '' : ' *'}
              </td>
              <td className="num" title={t.costed ? undefined : 'No base cost set on Pricing: no HighLevel cost counted.'}>
                {t.costed ? c(t.costCents) : <span className="muted">no base cost</span>}
              </td>
              <td className={`num${t.amountCents - t.costCents < 0 ? ' negative' : ''}`}>{c(t.amountCents - t.costCents)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="amounts-total">
            <th scope="row">All metrics</th>
            <td className="num muted" title="Units of different metrics are not added up.">—</td>
            <td className="num">{c(amounts.totalAmountCents)}</td>
            <td className="num">{c(amounts.totalCostCents)}</td>
            <td className={`num${amounts.totalAmountCents - amounts.totalCostCents < 0 ? ' negative' : ''}`}>{c(amounts.totalAmountCents - amounts.totalCostCents)}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
