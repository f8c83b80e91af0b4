/**
 * The agency defaults: auto-apply to new sub-accounts, a flat monthly fee, tax inclusion, which emails are billed,
 * and the grid of prices per metric (PriceGrid: one Save, unsaved markers, price per item, margin and markup against
 * HighLevel's cost). Prices are typed in the currency's major unit and sent as cents.
 */
import { useState, type FormEvent } from 'react';
import { api, type PricingGrid, type TaxBehavior } from '../api';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { centsToMajor, majorToCents } from '../format';
import { Editing, Writes } from '../components/permissions';
import { EmailBilling } from './EmailBilling';
import { PriceGrid } from './PriceGrid';
import { DirectionalRuleRows } from './pricing/DirectionalRuleRows';

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
          <DirectionalRuleRows grid={grid.data} onChanged={grid.reload} />
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
