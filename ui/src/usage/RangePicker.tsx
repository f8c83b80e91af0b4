/** A date range (UTC days, inclusive) with presets. Any length: the server widens the chart's buckets instead of capping. */
import { useState } from 'react';
import type { DayRange } from '../api';
import { addDays, today } from '../format';

const monthStart = (day: string) => `${day.slice(0, 7)}-01`;

/**
 * The presets, computed from today. With `billingPeriod`, "This month" is named for what it is to the agency: the
 * current billing period, the UTC calendar month the estimates and the money figures count (server/money/months.ts).
 */
export function presets(billingPeriod = false): Array<{ label: string; range: DayRange }> {
  const t = today();
  return [
    { label: 'Last 7 days', range: { from: addDays(t, -6), to: t } },
    { label: 'Last 30 days', range: { from: addDays(t, -29), to: t } },
    { label: billingPeriod ? 'Current billing period' : 'This month', range: { from: monthStart(t), to: t } },
    { label: 'Last 12 months', range: { from: addDays(t, -364), to: t } },
    { label: 'All time', range: { from: '2020-01-01', to: t } },
  ];
}

/** The default range: the last 30 days. */
export const defaultRange = (): DayRange => presets()[1]!.range;

export function RangePicker({ value, onChange, idPrefix, billingPeriod = false }: { value: DayRange; onChange: (r: DayRange) => void; idPrefix: string; billingPeriod?: boolean }) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown.from !== value.from || shown.to !== value.to) {
    setShown(value);
    setDraft(value);
  }
  const invalid = !draft.from || !draft.to || draft.from > draft.to;
  const change = (next: DayRange) => {
    setDraft(next);
    if (next.from && next.to && next.from <= next.to) onChange(next);
  };
  return (
    <div className="range" role="group" aria-label="Date range">
      <label htmlFor={`${idPrefix}-from`}>From</label>
      <input id={`${idPrefix}-from`} type="date" value={draft.from} max={draft.to} onChange={(e) => change({ ...draft, from: e.target.value })} aria-invalid={invalid} />
      <label htmlFor={`${idPrefix}-to`}>To</label>
      <input id={`${idPrefix}-to`} type="date" value={draft.to} min={draft.from} onChange={(e) => change({ ...draft, to: e.target.value })} aria-invalid={invalid} />
      <span className="presets">
        {presets(billingPeriod).map((p) => (
          <button
            key={p.label}
            type="button"
            className="button small secondary"
            aria-pressed={p.range.from === value.from && p.range.to === value.to}
            onClick={() => change(p.range)}
          >
            {p.label}
          </button>
        ))}
      </span>
      {invalid ? (
        <span className="error-text" role="alert">
          The start must be on or before the end.
        </span>
      ) : null}
    </div>
  );
}
