/**
 * Usage over time, one small bar chart per metric (metrics count different things: messages, minutes, tokens,
 * so they do not share an axis). Recharts, loaded on demand in its own chunk.
 */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Usage } from '../api';
import { formatNumber, metricLabel } from '../format';
import { bucketLabel, bucketsFor } from './buckets';

const PER = { day: 'day', week: 'week', month: 'month' } as const;

export default function UsageCharts({ usage }: { usage: Usage }) {
  const buckets = bucketsFor(usage.from, usage.to, usage.granularity);
  const metrics = usage.totals.filter((t) => Number(t.quantity) > 0).map((t) => t.metric);
  return (
    <div className="charts">
      {metrics.map((metric) => {
        const values = new Map(usage.series.filter((p) => p.metric === metric).map((p) => [p.bucket, Number(p.quantity)]));
        const data = buckets.map((bucket) => ({ bucket, label: bucketLabel(bucket, usage.granularity), quantity: values.get(bucket) ?? 0 }));
        const total = usage.totals.find((t) => t.metric === metric)!;
        return (
          <figure key={metric} className="chart" data-metric={metric}>
            <figcaption>
              {metricLabel(metric)} per {PER[usage.granularity]} <span className="muted">· {formatNumber(total.quantity)} in total</span>
            </figcaption>
            <div className="chart-box">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} />
                  <YAxis tick={{ fontSize: 11 }} allowDecimals={false} width={44} />
                  <Tooltip formatter={(v) => [formatNumber(Number(v)), metricLabel(metric)]} />
                  <Bar dataKey="quantity" fill="#2563eb" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
        );
      })}
    </div>
  );
}
