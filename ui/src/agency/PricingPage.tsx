/**
 * The agency defaults: per metric "every N = 1 unit" at a retail price, against HighLevel's cost, with the margin
 * and warnings; plus auto-apply to new sub-accounts and a flat monthly fee. Prices are typed in the currency's
 * major unit and sent as cents.
 */
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
          <section className="card" aria-labelledby="grid-title">
            <h2 id="grid-title">Price per metric</h2>
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
                    <th scope="col">Retail price per unit ({grid.data.currency.toUpperCase()})</th>
                    <th scope="col">Base cost per metric unit</th>
                    <th scope="col" className="num">Margin per metric unit</th>
                    <th scope="col">
                      <span className="visually-hidden">Save</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {grid.data.rows.map((row) => (
                    <PricingRowEditor
                      key={row.metric}
                      row={row}
                      currency={grid.data!.currency}
                      onSaved={(next) => grid.set({ ...grid.data!, rows: grid.data!.rows.map((r) => (r.metric === next.metric ? next : r)) })}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            </Editing>
          </section>
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
        <input id="flat-fee" inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} placeholder="0.00" className="short" />
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

function PricingRowEditor({ row, currency, onSaved }: { row: PricingRow; currency: string; onSaved: (r: PricingRow) => void }) {
  const label = metricLabel(row.metric);
  const [enabled, setEnabled] = useState(row.enabled || row.stripePriceId === null);
  const [threshold, setThreshold] = useState(row.threshold);
  const [direction, setDirection] = useState(row.direction);
  const [price, setPrice] = useState(centsToMajor(row.priceTerms?.unitAmountDecimal ?? row.priceTerms?.tiers?.at(-1)?.unitAmountDecimal ?? null));
  const [cost, setCost] = useState(centsToMajor(row.baseCostDecimal));
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean }>({});
  const id = `price-${row.metric}`;

  const save = async () => {
    const unitAmountDecimal = majorToCents(price);
    const baseCostDecimal = cost.trim() === '' ? null : majorToCents(cost);
    if (unitAmountDecimal === null) return setState({ error: new Error(`${label}: enter a retail price, e.g. 0.02.`) });
    if (cost.trim() !== '' && baseCostDecimal === null) return setState({ error: new Error(`${label}: the base cost must be a number.`) });
    if (!(Number(threshold) > 0)) return setState({ error: new Error(`${label}: the threshold must be a positive number.`) });
    setState({ busy: true });
    try {
      onSaved(
        await api.setMetricPricing(row.metric, {
          enabled,
          threshold: threshold.trim(),
          direction,
          price: { currency, interval: 'month', unitAmountDecimal },
          baseCostDecimal,
        }),
      );
      setState({ saved: true });
    } catch (error) {
      setState({ error });
    }
  };

  const warnings = [
    row.belowCost ? 'Below cost' : null,
    row.enabled && !row.stripePriceId ? 'Not priced yet' : null,
    row.priceTerms?.tiers ? 'Graduated tiers (saving sets a flat price)' : null,
    row.doubleBillingWarning ? 'May be billed twice' : null,
  ].filter(Boolean);
  return (
    <>
      <tr className={row.stripePriceId ? 'priced' : 'unpriced'} data-metric={row.metric}>
        <th scope="row">
          {label}
          {warnings.length ? (
            <span className="badges block">
              {warnings.map((w) => (
                <span key={w} className="badge warn">
                  {w}
                </span>
              ))}
            </span>
          ) : null}
          {row.doubleBillingWarning ? <span className="block small">{row.doubleBillingWarning}</span> : null}
        </th>
        <td>
          <input type="checkbox" aria-label={`${label}: billed`} checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        </td>
        <td>
          <input className="tiny" aria-label={`${label}: every N = 1 unit`} inputMode="decimal" value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </td>
        <td>
          <select aria-label={`${label}: which activity counts`} value={direction} onChange={(e) => setDirection(e.target.value as PricingRow['direction'])}>
            <option value="outbound">Outbound</option>
            <option value="inbound">Inbound</option>
            <option value="both">Both</option>
          </select>
        </td>
        <td>
          <input id={id} className="short" aria-label={`${label}: retail price per unit`} inputMode="decimal" value={price} placeholder="0.00" onChange={(e) => setPrice(e.target.value)} />
        </td>
        <td>
          <input className="short" aria-label={`${label}: base cost per ${label.toLowerCase().replace(/s$/, '')}`} inputMode="decimal" value={cost} placeholder="—" onChange={(e) => setCost(e.target.value)} />
        </td>
        <td className="num">
          {row.marginPerMetricUnit !== null ? (
            <span className={row.belowCost ? 'negative' : undefined}>
              {formatCents(row.marginPerMetricUnit, currency)}
              {row.marginPercent !== null ? <span className="block small">{row.marginPercent}%</span> : null}
            </span>
          ) : (
            '—'
          )}
        </td>
        <td>
          <Writes>
            <button type="button" className="button small" onClick={save} disabled={state.busy} aria-label={`Save ${label}`}>
              {state.busy ? 'Saving…' : 'Save'}
            </button>
          </Writes>
        </td>
      </tr>
      {state.error || state.saved ? (
        <tr className="row-status">
          <td colSpan={8}>{state.error ? <ErrorNotice error={state.error} /> : <Notice>{label} saved: Stripe meter and price are in place.</Notice>}</td>
        </tr>
      ) : null}
    </>
  );
}
