/**
 * Inbound and outbound prices of directional metrics (HighLevel reports calls, SMS, emails… as inbound or outbound):
 * a metric priced per direction has two default rules, each with its own "every N = 1 unit", Stripe meter and price,
 * shown here as an inbound and an outbound row (the main grid lists the metrics priced as one). The agency splits a
 * metric (both directions start from what it has today), edits each row, or prices it as one again.
 */
import { useState } from 'react';
import type { PricingGrid } from '../../api';
import { catalogApi, type DirectionalRow } from '../../api-catalog';
import { ErrorNotice, Notice } from '../../components/States';
import { Editing, Writes } from '../../components/permissions';
import { api } from '../../api';
import { centsToMajor, formatCents, metricLabel } from '../../format';
import { emptyTerms, PriceTermsEditor, termsOf, type TermsDraft } from './PriceTermsEditor';

type Direction = 'inbound' | 'outbound';

/** A row's stored terms as a draft the editor shows. */
function draftOf(row: DirectionalRow | undefined, currency: string): TermsDraft {
  const terms = row?.priceTerms;
  const draft = emptyTerms(terms?.currency ?? currency, (terms?.interval ?? 'month') as TermsDraft['interval']);
  if (!terms) return draft;
  if (terms.tiers) {
    return { ...draft, kind: 'tiers', tiers: terms.tiers.map((t) => ({ upTo: t.upTo === 'inf' ? '' : String(t.upTo), price: centsToMajor(t.unitAmountDecimal) })) };
  }
  return { ...draft, unit: centsToMajor(terms.unitAmountDecimal ?? null) };
}

const priceText = (row: DirectionalRow, currency: string) =>
  row.priceTerms?.tiers
    ? row.priceTerms.tiers.map((t, i) => `${t.upTo === 'inf' ? (i === 0 ? 'all' : 'then') : `up to ${t.upTo}`} at ${formatCents(t.unitAmountDecimal, currency)}`).join(', ')
    : formatCents(row.priceTerms?.unitAmountDecimal ?? null, row.priceTerms?.currency ?? currency);

export function DirectionalRuleRows({ grid, onChanged }: { grid: PricingGrid; onChanged: () => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const metrics = [...new Set(grid.directionalRows.map((r) => r.metric))];
  const splittable = grid.rows.filter((r) => r.directional && r.stripePriceId);
  const [choice, setChoice] = useState('');

  /** Splits a metric: both directions start from its one rule's threshold and price, each on its own Stripe meter. */
  const split = async () => {
    const row = grid.rows.find((r) => r.metric === choice);
    if (!row?.priceTerms) return;
    setError(null);
    try {
      for (const direction of ['inbound', 'outbound'] as const) {
        await catalogApi.setDirectionalPricing(row.metric, direction, { enabled: row.enabled, threshold: row.threshold, price: { ...row.priceTerms, interval: row.priceTerms.interval as TermsDraft['interval'] }, baseCostDecimal: row.baseCostDecimal });
      }
      setMessage(`${metricLabel(row.metric)}: inbound and outbound are priced separately now.`);
      setChoice('');
      onChanged();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="card" aria-labelledby="directional-title">
      <h2 id="directional-title">Inbound and outbound prices</h2>
      <p className="muted small">
        Price inbound and outbound activity of a metric separately (for example inbound calls at one price, outbound at another): each direction gets its own
        “every N”, Stripe meter and price. A sub-account’s own override can then set one direction and keep the other.
      </p>
      <Editing>
        {metrics.length > 0 ? (
          <div className="table-wrap">
            <table aria-label="Inbound and outbound prices">
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">On</th>
                  <th scope="col">Every N = 1 unit</th>
                  <th scope="col">Price per unit</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {metrics.flatMap((metric) =>
                  (['inbound', 'outbound'] as const).map((direction) => {
                    const row = grid.directionalRows.find((r) => r.metric === metric && r.direction === direction);
                    return (
                      <DirectionRow
                        key={`${metric}:${direction}:${row?.stripePriceId}:${row?.threshold}:${row?.enabled}`}
                        metric={metric}
                        direction={direction}
                        row={row}
                        currency={grid.currency}
                        onSaved={(text) => (setMessage(text), onChanged())}
                      />
                    );
                  }),
                )}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">Every metric is priced the same in both directions.</p>
        )}
        <Writes>
          {splittable.length > 0 ? (
            <div className="row">
              <label htmlFor="split-metric">Price inbound and outbound separately</label>
              <select id="split-metric" value={choice} onChange={(e) => setChoice(e.target.value)}>
                <option value="">Choose a metric…</option>
                {splittable.map((r) => (
                  <option key={r.metric} value={r.metric}>
                    {metricLabel(r.metric)}
                  </option>
                ))}
              </select>
              <button type="button" className="button secondary" disabled={!choice} onClick={split}>
                Split
              </button>
            </div>
          ) : null}
        </Writes>
      </Editing>
      {error ? <ErrorNotice error={error} /> : null}
      {message ? <Notice>{message}</Notice> : null}
    </section>
  );
}

function DirectionRow({
  metric,
  direction,
  row,
  currency,
  onSaved,
}: {
  metric: string;
  direction: Direction;
  row: DirectionalRow | undefined;
  currency: string;
  onSaved: (message: string) => void;
}) {
  const label = `${metricLabel(metric)} (${direction})`;
  const [enabled, setEnabled] = useState(row?.enabled ?? true);
  const [threshold, setThreshold] = useState(row?.threshold ?? '1');
  const [terms, setTerms] = useState(() => draftOf(row, currency));
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    setError(null);
    try {
      await catalogApi.setDirectionalPricing(metric, direction, { enabled, threshold: threshold.trim(), price: termsOf(terms), baseCostDecimal: row?.baseCostDecimal ?? null });
      onSaved(`${label} saved: its Stripe meter and price are in place.`);
    } catch (err) {
      setError(err);
    }
  };
  // Priced as one again: one rule for both directions, at the outbound row's threshold and price.
  const merge = async () => {
    setError(null);
    try {
      await api.setMetricPricing(metric, { enabled, threshold: threshold.trim(), direction: 'both', price: termsOf(terms) });
      onSaved(`${metricLabel(metric)} is priced as one again.`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <tr data-metric={metric} data-direction={direction}>
        <th scope="row">
          {metricLabel(metric)} <span className="badge info">{direction === 'inbound' ? 'Inbound' : 'Outbound'}</span>
          {row ? <span className="block small muted">{priceText(row, currency)}</span> : <span className="block small negative">Not counted</span>}
        </th>
        <td>
          <input type="checkbox" aria-label={`${label}: billed`} checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        </td>
        <td>
          <input className="tiny" aria-label={`${label}: every N = 1 unit`} inputMode="decimal" value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </td>
        <td>
          <PriceTermsEditor label={label} draft={terms} onChange={setTerms} placeholder="No price" />
        </td>
        <td className="actions-cell">
          <Writes>
            <button type="button" className="button small" onClick={save} aria-label={`Save ${label}`}>
              Save
            </button>
            {direction === 'outbound' ? (
              <button type="button" className="button small secondary" onClick={merge} aria-label={`Price ${metricLabel(metric)} as one at the outbound price`}>
                Price as one
              </button>
            ) : null}
          </Writes>
        </td>
      </tr>
      {error ? (
        <tr className="row-status">
          <td colSpan={5}>
            <ErrorNotice error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
