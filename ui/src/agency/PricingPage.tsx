/**
 * The agency defaults: per metric "every N = 1 unit" at a retail price, against HighLevel's cost, with the margin
 * and warnings; plus auto-apply to new sub-accounts and a flat monthly fee. Prices are typed in the currency's
 * major unit and sent as cents. The grid is one form: rows changed since the last save are marked "Unsaved" and
 * one Save sends them; the price per item (price per unit ÷ N) is shown beside the price per unit, and the margin
 * and markup compare it with the base cost per item, as typed. An unpriced metric is off and marked; a graduated
 * price keeps its tiers unless the agency chooses to replace them with a flat price.
 */
import Decimal from 'decimal.js';
import { useState, type FormEvent } from 'react';
import { api, type PricingGrid, type PricingRow, type TaxBehavior } from '../api';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { centsToMajor, formatCents, majorToCents, metricLabel } from '../format';
import { Editing, Writes } from '../components/permissions';
import { EmailBilling } from './EmailBilling';

export function PricingPage() {
  const grid = useResource(() => api.pricing(), []);
  return (
    <>
      <h1>Pricing</h1>
      <p className="lead">
        Defaults every sub-account inherits unless it has its own override. A unit is billed each time a threshold is crossed; the price is per
        unit.
      </p>
      {grid.loading && !grid.data ? <Loading /> : null}
      {grid.error ? <ErrorNotice error={grid.error} onRetry={grid.reload} /> : null}
      {grid.data ? (
        <>
          <Editing>
            <Defaults grid={grid.data} onSaved={grid.set} />
            <EmailBilling />
          </Editing>
          <PriceGrid grid={grid.data} onSaved={(rows) => grid.set({ ...grid.data!, rows })} />
        </>
      ) : null}
    </>
  );
}

function Defaults({ grid, onSaved }: { grid: PricingGrid; onSaved: (g: PricingGrid) => void }) {
  const [autoApply, setAutoApply] = useState(grid.autoApply);
  const [fee, setFee] = useState(grid.flatFee ? centsToMajor(String(grid.flatFee.amount)) : '');
  const [taxBehavior, setTaxBehavior] = useState<TaxBehavior>(grid.taxBehavior);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const cents = fee.trim() === '' ? null : majorToCents(fee);
    if (fee.trim() !== '' && (cents === null || cents.includes('.'))) return setState({ error: new Error('The monthly fee must be an amount with at most 2 decimals.') });
    setState({ busy: true });
    try {
      // Tax inclusion only when changed: sending it re-checks every price in Stripe (server/billing-setup/tax-behavior.ts).
      const tax = taxBehavior !== grid.taxBehavior ? { taxBehavior } : {};
      onSaved(await api.setDefaults({ autoApply, flatFeeAmount: cents === null ? null : Number(cents), ...tax }));
      setState({ saved: true });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="defaults-title">
      <h2 id="defaults-title">Defaults</h2>
      <div className="row">
        <label className="checkbox">
          <input type="checkbox" checked={autoApply} onChange={(e) => setAutoApply(e.target.checked)} />
          Apply these defaults to new sub-accounts automatically (Stripe customer and subscription)
        </label>
      </div>
      <div className="row">
        <label htmlFor="flat-fee">Flat monthly fee per sub-account ({grid.currency.toUpperCase()}, optional)</label>
        <input id="flat-fee" inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} placeholder="None" className="short" />
      </div>
      <div className="row">
        <label htmlFor="tax-behavior">Tax inclusion of prices</label>
        <select id="tax-behavior" value={taxBehavior} onChange={(e) => setTaxBehavior(e.target.value as TaxBehavior)}>
          <option value="exclusive">Tax added on top (exclusive)</option>
          <option value="inclusive">Prices include tax (inclusive)</option>
        </select>
        <p className="muted small">Stripe never changes this on a price: changing it makes new prices and moves every subscription to them.</p>
      </div>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.saved ? <Notice>Defaults saved.</Notice> : null}
      <Writes>
        <button type="submit" className="button" disabled={state.busy}>
          Save defaults
        </button>
      </Writes>
    </form>
  );
}

/** A row as the agency is editing it: major-unit strings as typed. */
interface Draft {
  enabled: boolean;
  threshold: string;
  direction: PricingRow['direction'];
  price: string;
  cost: string;
  /** A graduated row the agency chose to replace with a flat price. */
  flat: boolean;
}

const tiersOf = (row: PricingRow) => row.priceTerms?.tiers ?? null;

function draftOf(row: PricingRow): Draft {
  return {
    enabled: row.enabled,
    threshold: row.threshold,
    direction: row.direction,
    price: tiersOf(row) ? '' : centsToMajor(row.priceTerms?.unitAmountDecimal ?? null),
    cost: centsToMajor(row.baseCostDecimal),
    flat: false,
  };
}

const sameDraft = (a: Draft, b: Draft) =>
  a.enabled === b.enabled && a.threshold.trim() === b.threshold.trim() && a.direction === b.direction && a.price.trim() === b.price.trim() && a.cost.trim() === b.cost.trim() && a.flat === b.flat;

/** "every 10 emails": the item a base cost is per. */
const itemOf = (label: string) => label.toLowerCase().replace(/ \(.*\)$/, '').replace(/s$/, '');

/** Price per item, base cost per item, margin per item, margin % and markup ×, from a draft (null where not computable). */
function economics(row: PricingRow, d: Draft) {
  const decimal = (text: string) => {
    const cents = majorToCents(text);
    return cents === null ? null : new Decimal(cents);
  };
  const threshold = /^\d+(\.\d+)?$/.test(d.threshold.trim()) && Number(d.threshold) > 0 ? new Decimal(d.threshold.trim()) : null;
  const tiers = tiersOf(row);
  const unit = tiers && !d.flat ? new Decimal(tiers.at(-1)!.unitAmountDecimal) : decimal(d.price);
  const perItem = unit !== null && threshold !== null ? unit.div(threshold) : null;
  const cost = d.cost.trim() === '' ? null : decimal(d.cost);
  const margin = perItem !== null && cost !== null ? perItem.minus(cost) : null;
  return {
    perItem,
    margin,
    percent: margin !== null && perItem !== null && !perItem.isZero() ? margin.div(perItem).times(100) : null,
    markup: perItem !== null && cost !== null && !cost.isZero() ? perItem.div(cost) : null,
  };
}

/** The grid of default prices: one form, unsaved rows marked, one Save for every changed row. */
function PriceGrid({ grid, onSaved }: { grid: PricingGrid; onSaved: (rows: PricingRow[]) => void }) {
  const [drafts, setDrafts] = useState<Record<string, Draft>>(() => Object.fromEntries(grid.rows.map((r) => [r.metric, draftOf(r)])));
  const [state, setState] = useState<{ busy?: boolean; errors?: Array<{ metric: string; error: unknown }>; saved?: string[] }>({});
  const draft = (row: PricingRow) => drafts[row.metric] ?? draftOf(row);
  const changed = grid.rows.filter((r) => !sameDraft(draft(r), draftOf(r)));
  const update = (row: PricingRow, next: Partial<Draft>) => {
    setDrafts({ ...drafts, [row.metric]: { ...draft(row), ...next } });
    setState({});
  };

  const save = async () => {
    setState({ busy: true });
    const errors: Array<{ metric: string; error: unknown }> = [];
    const saved: string[] = [];
    let rows = grid.rows;
    const nextDrafts = { ...drafts };
    for (const row of changed) {
      const label = metricLabel(row.metric);
      const d = draft(row);
      try {
        const tiers = tiersOf(row);
        const keepTiers = tiers !== null && !d.flat;
        const unitAmountDecimal = keepTiers ? null : majorToCents(d.price);
        const baseCostDecimal = d.cost.trim() === '' ? null : majorToCents(d.cost);
        if (!keepTiers && unitAmountDecimal === null) throw new Error(`${label}: enter a price per unit, e.g. 0.02.`);
        if (d.cost.trim() !== '' && baseCostDecimal === null) throw new Error(`${label}: the base cost must be an amount, e.g. 0.0079.`);
        if (!(Number(d.threshold) > 0)) throw new Error(`${label}: “every N” must be a positive number.`);
        const price = keepTiers
          ? { currency: row.priceTerms!.currency, interval: row.priceTerms!.interval as 'month', tiers: tiers.map((t) => ({ ...t, unitAmountDecimal: t.unitAmountDecimal })) }
          : { currency: grid.currency, interval: 'month' as const, unitAmountDecimal: unitAmountDecimal! };
        const next = await api.setMetricPricing(row.metric, { enabled: d.enabled, threshold: d.threshold.trim(), direction: d.direction, price, baseCostDecimal });
        rows = rows.map((r) => (r.metric === next.metric ? next : r));
        nextDrafts[row.metric] = draftOf(next);
        saved.push(label);
      } catch (error) {
        errors.push({ metric: row.metric, error });
      }
    }
    setDrafts(nextDrafts);
    onSaved(rows);
    setState({ errors, saved });
  };

  return (
    <section className="card" aria-labelledby="grid-title">
      <div className="card-head">
        <h2 id="grid-title">Price per metric</h2>
        <span className="muted" role="status" aria-live="polite" data-testid="unsaved-count">
          {changed.length ? `${changed.length} unsaved change${changed.length === 1 ? '' : 's'}` : 'All changes saved'}
        </span>
      </div>
      <p className="muted small">
        A unit is billed every N of the metric; the price is per unit, and per item it is that price ÷ N. Margin and markup compare the price per item with
        HighLevel’s base cost per item.
      </p>
      <Editing>
        <div className="table-wrap">
          <table className="pricing">
            <caption className="visually-hidden">Default pricing per metric</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">On</th>
                <th scope="col">Every N = 1 unit</th>
                <th scope="col">Counts</th>
                <th scope="col">Price per unit ({grid.currency.toUpperCase()})</th>
                <th scope="col">Base cost per item</th>
                <th scope="col" className="num">
                  Margin per item
                </th>
              </tr>
            </thead>
            <tbody>
              {grid.rows.map((row) => (
                <PriceRow
                  key={row.metric}
                  row={row}
                  draft={draft(row)}
                  currency={grid.currency}
                  unsaved={changed.includes(row)}
                  error={state.errors?.find((e) => e.metric === row.metric)?.error}
                  onChange={(next) => update(row, next)}
                />
              ))}
            </tbody>
          </table>
        </div>
      </Editing>
      {state.saved?.length ? <Notice>Saved: {state.saved.join(', ')}. Stripe meters and prices are in place.</Notice> : null}
      {state.errors?.length ? <Notice tone="error">Not saved: {state.errors.map((e) => metricLabel(e.metric)).join(', ')} (see the rows above).</Notice> : null}
      <Writes>
        <div className="actions">
          <button type="button" className="button" onClick={save} disabled={state.busy || changed.length === 0}>
            {state.busy ? 'Saving…' : changed.length ? `Save ${changed.length} change${changed.length === 1 ? '' : 's'}` : 'Save prices'}
          </button>
          {changed.length ? (
            <button type="button" className="button secondary" disabled={state.busy} onClick={() => (setDrafts(Object.fromEntries(grid.rows.map((r) => [r.metric, draftOf(r)]))), setState({}))}>
              Discard changes
            </button>
          ) : null}
        </div>
      </Writes>
    </section>
  );
}

function PriceRow({
  row,
  draft: d,
  currency,
  unsaved,
  error,
  onChange,
}: {
  row: PricingRow;
  draft: Draft;
  currency: string;
  unsaved: boolean;
  error: unknown;
  onChange: (next: Partial<Draft>) => void;
}) {
  const label = metricLabel(row.metric);
  const item = itemOf(label);
  const tiers = tiersOf(row);
  const e = economics(row, d);
  const money = (cents: Decimal | null) => (cents === null ? '—' : formatCents(cents.toDecimalPlaces(6).toString(), currency));
  const warnings = [
    unsaved ? 'Unsaved' : null,
    !row.stripePriceId ? 'Not priced' : null,
    e.margin !== null && e.margin.isNegative() ? 'Below cost' : null,
    row.doubleBillingWarning ? 'May be billed twice' : null,
  ].filter((w): w is string => w !== null);
  return (
    <>
      <tr className={`${row.stripePriceId ? 'priced' : 'unpriced'}${unsaved ? ' unsaved' : ''}`} data-metric={row.metric}>
        <th scope="row">
          {label}
          {warnings.length ? (
            <span className="badges block">
              {warnings.map((w) => (
                <span key={w} className={`badge ${w === 'Unsaved' ? 'info' : 'warn'}`}>
                  {w}
                </span>
              ))}
            </span>
          ) : null}
          {row.doubleBillingWarning ? <span className="block small">{row.doubleBillingWarning}</span> : null}
        </th>
        <td>
          <input type="checkbox" aria-label={`${label}: billed`} checked={d.enabled} onChange={(ev) => onChange({ enabled: ev.target.checked })} />
        </td>
        <td>
          <input className="tiny" aria-label={`${label}: every N = 1 unit`} inputMode="decimal" value={d.threshold} onChange={(ev) => onChange({ threshold: ev.target.value })} />
        </td>
        <td>
          <select aria-label={`${label}: which activity counts`} value={d.direction} onChange={(ev) => onChange({ direction: ev.target.value as PricingRow['direction'] })}>
            <option value="outbound">Outbound</option>
            <option value="inbound">Inbound</option>
            <option value="both">Both</option>
          </select>
        </td>
        <td>
          {tiers && !d.flat ? (
            <span className="small" data-testid={`tiers-${row.metric}`}>
              Graduated:{' '}
              {tiers.map((t, i) => `${t.upTo === 'inf' ? (i === 0 ? 'all' : 'then') : `up to ${t.upTo}`} at ${formatCents(t.unitAmountDecimal, currency)}`).join(', ')}
              <button type="button" className="button secondary small block" onClick={() => onChange({ flat: true, price: centsToMajor(tiers.at(-1)!.unitAmountDecimal) })}>
                Replace the tiers with a flat price
              </button>
            </span>
          ) : (
            <>
              <input
                className="short"
                aria-label={`${label}: retail price per unit`}
                inputMode="decimal"
                value={d.price}
                placeholder="No price"
                // Typing a first price switches the metric on (an unpriced metric starts off).
                onChange={(ev) => onChange({ price: ev.target.value, ...(!row.stripePriceId && d.price === '' && !d.enabled ? { enabled: true } : {}) })}
              />
              {tiers ? <span className="block small negative">Saving replaces the graduated tiers with this flat price.</span> : null}
            </>
          )}
          {e.perItem !== null && Number(d.threshold) !== 1 ? (
            <span className="block small muted" data-testid={`per-item-${row.metric}`}>
              = {money(e.perItem)} per {item}
            </span>
          ) : null}
        </td>
        <td>
          <input className="short" aria-label={`${label}: base cost per ${item}`} inputMode="decimal" value={d.cost} placeholder="Not set" onChange={(ev) => onChange({ cost: ev.target.value })} />
        </td>
        <td className="num" data-testid={`margin-${row.metric}`}>
          {e.margin !== null ? (
            <span className={e.margin.isNegative() ? 'negative' : undefined}>
              {money(e.margin)}
              {e.percent !== null ? <span className="block small">{e.percent.toDecimalPlaces(1).toString()}%</span> : null}
              {e.markup !== null ? <span className="block small">{e.markup.toDecimalPlaces(2).toString()}× cost</span> : null}
            </span>
          ) : (
            '—'
          )}
        </td>
      </tr>
      {error ? (
        <tr className="row-status">
          <td colSpan={7}>
            <ErrorNotice error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
