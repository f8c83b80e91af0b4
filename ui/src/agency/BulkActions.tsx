/**
 * Actions on the sub-accounts selected in the list, each summarised before it runs: what it will create in Stripe
 * (customers, subscriptions), what it switches on or ends — then a confirmation, then the outcome per sub-account.
 */
import { useState } from 'react';
import { api, type SubAccountList } from '../api';
import { Writes } from '../components/permissions';
import { ErrorNotice, Notice } from '../components/States';

type Row = SubAccountList['items'][number];
type Kind = 'defaults' | 'off';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What applying the defaults to `rows` does, line by line (server: SubAccountBilling.applyDefaults). */
export function defaultsSummary(rows: Row[]): string[] {
  const noCustomer = rows.filter((r) => !r.stripeCustomerId).length;
  const off = rows.filter((r) => !r.rebillingEnabled).length;
  const noSubscription = rows.filter((r) => !r.stripeSubscriptionId && !r.scheduled).length;
  const withSubscription = rows.length - noSubscription;
  return [
    noCustomer ? `Creates ${plural(noCustomer, 'Stripe customer')} from HighLevel’s details.` : null,
    off ? `Switches rebilling on for ${plural(off, 'sub-account')}.` : null,
    noSubscription ? `Creates ${plural(noSubscription, 'Stripe subscription')} with the default prices (and the monthly fee, if set).` : null,
    withSubscription ? `Brings ${plural(withSubscription, 'existing subscription')} in line with the default prices.` : null,
  ].filter((line): line is string => line !== null);
}

/** What switching rebilling off for `rows` does. */
export function offSummary(rows: Row[]): string[] {
  const on = rows.filter((r) => r.rebillingEnabled);
  const ending = on.filter((r) => r.stripeSubscriptionId).length;
  return [
    `Stops billing new usage of ${plural(on.length, 'sub-account')}${on.length < rows.length ? ` (${rows.length - on.length} already off)` : ''}.`,
    ending ? `Ends ${plural(ending, 'Stripe subscription')} at the end of the current period (this period is still invoiced).` : null,
  ].filter((line): line is string => line !== null);
}

export function BulkActions({ selected, onDone }: { selected: Row[]; onDone: () => void }) {
  const [asking, setAsking] = useState<Kind | null>(null);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string; failed?: string }>({});
  if (selected.length === 0 && !state.message && !state.error) return null;
  const run = async (kind: Kind) => {
    setAsking(null);
    setState({ busy: true });
    try {
      const ids = selected.map((s) => s.locationId);
      const results =
        kind === 'defaults'
          ? (await api.applyDefaults(ids)).results
          : await Promise.all(ids.map((id) => api.setBilling(id, { rebillingEnabled: false }).then(() => ({ locationId: id, ok: true as boolean, error: undefined as string | undefined }), (err: Error) => ({ locationId: id, ok: false, error: err.message }))));
      const failed = results.filter((r) => !r.ok);
      const name = (id: string) => selected.find((s) => s.locationId === id)?.name ?? id;
      setState({
        message: `${kind === 'defaults' ? 'Defaults applied to' : 'Rebilling switched off for'} ${plural(results.length - failed.length, 'sub-account')}.`,
        failed: failed.length ? `Not done for ${failed.map((f) => `${name(f.locationId)} (${f.error})`).join('; ')}` : undefined,
      });
      onDone();
    } catch (error) {
      setState({ error });
    }
  };
  const summary = asking === 'defaults' ? defaultsSummary(selected) : asking === 'off' ? offSummary(selected) : [];
  return (
    <div className="bulk">
      {selected.length > 0 ? (
        <Writes>
          <span className="inline">
            <strong>{plural(selected.length, 'selected sub-account')}</strong>
            <button type="button" className="button" onClick={() => setAsking('defaults')} disabled={state.busy || asking !== null}>
              Apply defaults to {selected.length} selected
            </button>
            <button type="button" className="button secondary" onClick={() => setAsking('off')} disabled={state.busy || asking !== null}>
              Switch rebilling off
            </button>
          </span>
        </Writes>
      ) : null}
      {asking ? (
        <div className="confirm-box" role="group" aria-label="Confirm the bulk action">
          <p>
            <strong>{asking === 'defaults' ? 'Applying the defaults' : 'Switching rebilling off'}:</strong>
          </p>
          <ul data-testid="bulk-summary">
            {summary.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
          <span className="inline">
            <button type="button" className={`button${asking === 'off' ? ' danger' : ''}`} onClick={() => run(asking)}>
              {asking === 'defaults' ? 'Yes, apply the defaults' : 'Yes, switch rebilling off'}
            </button>
            <button type="button" className="button secondary" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </span>
        </div>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      {state.failed ? <Notice tone="error">{state.failed}</Notice> : null}
    </div>
  );
}
