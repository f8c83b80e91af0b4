/**
 * The grid of default prices per metric as one form: rows changed since the last save are marked "Unsaved", one
 * Save sends every changed row (PUT /api/pricing/:metric each; a row Stripe or the server refuses shows its error and
 * stays unsaved), and "Discard changes" returns to what is saved.
 */
import { useState } from 'react';
import { api, type PricingGrid, type PricingRow } from '../api';
import { Notice } from '../components/States';
import { Editing, Writes } from '../components/permissions';
import { metricLabel } from '../format';
import { draftOf, pricingInput, sameDraft, type Draft } from './pricing-draft';
import { PriceRow } from './PriceRow';

export function PriceGrid({ grid, onSaved }: { grid: PricingGrid; onSaved: (rows: PricingRow[]) => void }) {
  const initial = () => Object.fromEntries(grid.rows.map((r) => [r.metric, draftOf(r, grid.currency)]));
  const [drafts, setDrafts] = useState<Record<string, Draft>>(initial);
  const [state, setState] = useState<{ busy?: boolean; errors?: Array<{ metric: string; error: unknown }>; saved?: string[] }>({});
  const draft = (row: PricingRow) => drafts[row.metric] ?? draftOf(row, grid.currency);
  const changed = grid.rows.filter((r) => !sameDraft(draft(r), draftOf(r, grid.currency)));
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
      try {
        const next = await api.setMetricPricing(row.metric, pricingInput(row, draft(row), grid.currency));
        rows = rows.map((r) => (r.metric === next.metric ? next : r));
        nextDrafts[row.metric] = draftOf(next, grid.currency);
        saved.push(metricLabel(row.metric));
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
            <button type="button" className="button secondary" disabled={state.busy} onClick={() => (setDrafts(initial()), setState({}))}>
              Discard changes
            </button>
          ) : null}
        </div>
      </Writes>
    </section>
  );
}
