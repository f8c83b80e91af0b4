/**
 * Billed, HighLevel cost and margin per month: bars for billed and cost side by side, a line for the margin (all in
 * the same currency, so one axis). Recharts (already the page's chart library), loaded on demand in its own chunk.
 */
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AgencyMoney } from '../api-types-money';
import { formatCents } from '../format';
import { monthName } from './MoneyCockpit';

export default function MoneyChart({ money }: { money: AgencyMoney }) {
  const data = money.months.map((m) => ({ label: monthName(m.month), billed: m.billedCents, cost: m.costCents, margin: m.marginCents }));
  const money$ = (cents: number) => formatCents(cents, money.currency);
  return (
    <figure className="chart money-chart" data-testid="money-chart">
      <figcaption className="visually-hidden">Billed, HighLevel cost and margin per month</figcaption>
      <div className="chart-box tall">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} />
            <YAxis tick={{ fontSize: 11 }} width={64} tickFormatter={(v) => money$(Number(v)).replace(/\.00$/, '')} />
            <Tooltip formatter={(v, name) => [money$(Number(v)), String(name)]} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="billed" name="Billed" fill="#2563eb" isAnimationActive={false} />
            <Bar dataKey="cost" name="HighLevel cost" fill="#d97706" isAnimationActive={false} />
            <Line dataKey="margin" name="Margin" stroke="#047857" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
