/**
 * Per-metric rules in force for a sub-account: inherited defaults or its own overrides (on/off, threshold, and an
 * own price: per unit or graduated tiers, in a currency and billing interval — the agency's and the default's unless
 * changed), with its counters. A metric priced per direction shows its inbound and outbound rules as two rows.
 */
import { useState } from 'react';
import { api, type EffectiveRule, type PricingGrid, type SubAccountDetail } from '../api';
import { catalogApi } from '../api-catalog';
import { emptyTerms, hasPrice, PriceTermsEditor, termsOf, type TermsDraft } from './pricing/PriceTermsEditor';
import { Empty, ErrorNotice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatNumber, metricLabel } from '../format';

export function Overrides({ detail, onSaved, onChanged }: { detail: SubAccountDetail; onSaved: (d: SubAccountDetail) => void; onChanged: () => void }) {
  const counters = new Map(detail.counters.map((c) => [`${c.metric}:${c.direction}`, c]));
  const paired = (rule: EffectiveRule) => rule.direction !== 'both' && detail.rules.filter((r) => r.metric === rule.metric).length > 1;
  const grid = useResource(() => api.pricing(), []);
  return (
    <section className="card" aria-labelledby="rules-title">
      <h2 id="rules-title">Rules in force</h2>
      {detail.rules.length === 0 ? (
        <Empty>No rule applies yet: set default prices on the Pricing page.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Rules in force for this sub-account</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Source</th>
                <th scope="col">On</th>
                <th scope="col">Every N = 1 unit</th>
                <th scope="col">Own price per unit</th>
                <th scope="col" className="num">Counted so far</th>
                <th scope="col" className="num" title="Whole thresholds crossed: sent to Stripe in live mode, kept as “would bill” in shadow mode">Units crossed so far</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {detail.rules.map((rule) => (
                <RuleRow
                  key={`${rule.metric}:${rule.direction}:${rule.inherited}:${rule.threshold}:${rule.enabled}:${rule.stripePriceId}`}
                  locationId={detail.locationId}
                  rule={rule}
                  paired={paired(rule)}
                  grid={grid.data}
                  counter={counters.get(`${rule.metric}:${rule.direction}`) ?? counters.get(`${rule.metric}:both`)}
                  onSaved={onSaved}
                  onChanged={onChanged}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RuleRow({
  locationId,
  rule,
  paired,
  grid,
  counter,
  onSaved,
  onChanged,
}: {
  locationId: string;
  rule: EffectiveRule;
  /** One rule of an inbound + outbound pair: saved as that direction's rule only. */
  paired: boolean;
  grid?: PricingGrid;
  counter?: { total: string; billedUnits: number };
  onSaved: (d: SubAccountDetail) => void;
  onChanged: () => void;
}) {
  const label = paired ? `${metricLabel(rule.metric)} (${rule.direction})` : metricLabel(rule.metric);
  const [enabled, setEnabled] = useState(rule.enabled);
  const [threshold, setThreshold] = useState(String(Number(rule.threshold)));
  const [error, setError] = useState<unknown>(null);
  const defaultRow = [...(grid?.rows ?? []), ...(grid?.directionalRows ?? [])].find((r) => r.metric === rule.metric);
  const [terms, setTerms] = useState(() => emptyTerms(grid?.currency ?? 'usd', (defaultRow?.priceTerms?.interval ?? 'month') as TermsDraft['interval']));
  const dirty = enabled !== rule.enabled || Number(threshold) !== Number(rule.threshold) || hasPrice(terms);
  const save = () => {
    const override = { metric: rule.metric, enabled, threshold: threshold.trim(), direction: rule.direction, ...(paired ? { perDirection: true } : {}) };
    if (!hasPrice(terms)) return api.setBilling(locationId, { overrides: [override] }).then(onSaved, setError);
    let price: ReturnType<typeof termsOf>;
    try {
      price = termsOf({ ...terms, currency: terms.currency || grid?.currency || 'usd' });
    } catch (err) {
      return setError(err);
    }
    return catalogApi.setPricedOverride(locationId, { ...override, price }).then(onSaved, setError);
  };
  const inherit = () => api.removeOverride(locationId, rule.metric).then(onChanged, setError);
  return (
    <>
      <tr>
        <th scope="row">{label}</th>
        <td>{rule.inherited ? 'Default' : <span className="badge">Override</span>}</td>
        <td>
          <input type="checkbox" aria-label={`${label}: billed for this sub-account`} checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        </td>
        <td>
          <input className="tiny" aria-label={`${label}: every N = 1 unit for this sub-account`} inputMode="decimal" value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </td>
        <td>
          <PriceTermsEditor label={label} draft={terms} onChange={setTerms} placeholder={rule.inherited ? 'default' : 'keep'} ownPrice />
        </td>
        <td className="num">{counter ? formatNumber(counter.total) : '0'}</td>
        <td className="num">{counter ? formatNumber(counter.billedUnits) : '0'}</td>
        <td className="actions-cell">
          <button type="button" className="button small" disabled={!dirty} onClick={save} aria-label={`Save override for ${label}`}>
            Save override
          </button>
          {!rule.inherited && !(paired && rule.direction === 'inbound') ? (
            <button type="button" className="button small secondary" onClick={inherit} aria-label={`Use the default for ${metricLabel(rule.metric)}`}>
              Use default
            </button>
          ) : null}
        </td>
      </tr>
      {error ? (
        <tr className="row-status">
          <td colSpan={8}>
            <ErrorNotice error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
