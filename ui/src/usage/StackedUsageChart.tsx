/**
 * Usage over time in ONE chart with a toggle per metric: in money, the metrics' amounts stacked (money adds up); in
 * units, the metrics' bars side by side, never stacked (a call minute and an SMS do not add up). Recharts, loaded on
 * demand in its own chunk.
 */
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Usage } from '../api';
import type { UsageAmounts } from '../api-types-money';
import { formatCents, formatNumber, metricLabel } from '../format';
import { bucketLabel, bucketsFor } from './buckets';

const COLORS = ['#2563eb', '#d97706', '#047857', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#b91c1c', '#475569'];

export default function StackedUsageChart({ usage, amounts }: { usage: Usage; amounts: UsageAmounts | null }) {
  const hasMoney = (amounts?.totalAmountCents ?? 0) > 0;
  const [mode, setMode] = useState<'amounts' | 'units'>(hasMoney ? 'amounts' : 'units');
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const inMoney = mode === 'amounts' && amounts !== null;
  const metrics = inMoney
    ? amounts.totals.filter((t) => t.amountCents > 0).map((t) => t.metric)
    : usage.totals.filter((t) => Number(t.quantity) > 0).map((t) => t.metric);
  const shown = metrics.filter((m) => !hidden.has(m));
  const buckets = bucketsFor(usage.from, usage.to, usage.granularity);
  const points = inMoney
    ? amounts.series.map((p) => ({ bucket: p.bucket, metric: p.metric, value: p.amountCents }))
    : usage.series.map((p) => ({ bucket: p.bucket, metric: p.metric, value: Number(p.quantity) }));
  const data = buckets.map((bucket) => {
    const row: Record<string, string | number> = { label: bucketLabel(bucket, usage.granularity) };
    for (const m of metrics) row[m] = 0;
    for (const p of points) if (p.bucket === bucket && p.metric in row) row[p.metric] = (row[p.metric] as number) + p.value;
    return row;
  });
  const format = (v: number) => (inMoney ? formatCents(v, amounts.currency) : formatNumber(v));
  const toggle = (metric: string) => {
    const next = new Set(hidden);
    if (next.has(metric)) next.delete(metric);
    else next.add(metric);
    setHidden(next);
  };
  return (
    <figure className="chart usage-stacked" data-testid="usage-stacked-chart" data-mode={inMoney ? 'amounts' : 'units'}>
      <figcaption>
        {inMoney ? 'Billed amounts per metric, stacked' : 'Usage per metric, side by side (units of different metrics do not add up)'}
      </figcaption>
      <div className="metric-toggles" role="group" aria-label="Chart options">
        {amounts ? (
          <span className="inline">
            <label className="checkbox">
              <input type="radio" name="chart-mode" checked={inMoney} onChange={() => setMode('amounts')} /> Amounts
            </label>
            <label className="checkbox">
              <input type="radio" name="chart-mode" checked={!inMoney} onChange={() => setMode('units')} /> Units
            </label>
          </span>
        ) : null}
        {metrics.map((m) => (
          <label key={m} className="checkbox">
            <input type="checkbox" checked={!hidden.has(m)} onChange={() => toggle(m)} /> {metricLabel(m)}
          </label>
        ))}
      </div>
      <div className="chart-box tall">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} />
            <YAxis tick={{ fontSize: 11 }} width={inMoney ? 64 : 44} allowDecimals={!inMoney} tickFormatter={(v) => format(Number(v))} />
            <Tooltip formatter={(v, name) => [format(Number(v)), String(name)]} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {shown.map((m) => (
              <Bar key={m} dataKey={m} name={metricLabel(m)} stackId={inMoney ? 'money' : undefined} fill={COLORS[metrics.indexOf(m) % COLORS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
