/**
 * Usage and spend alerts of the Notifications page: thresholds per billing period (the UTC month) — units of a metric,
 * or `spend` in the currency's major unit (stored in cents) — as the agency default or for one sub-account (its
 * override wins). Crossing one raises a "Usage alert" once in the period.
 */
import { type FormEvent, useState } from 'react';
import { alertsApi } from '../alerts-api';
import type { UsageThreshold } from '../api-types-alerts';
import { Writes } from '../components/permissions';
import { Empty, ErrorNotice, Loading } from '../components/States';
import { useResource } from '../components/useResource';
import { centsToMajor, majorToCents, metricLabel } from '../format';

const limitText = (t: UsageThreshold) => (t.metric === 'spend' ? centsToMajor(t.limit) : t.limit);

export function UsageThresholds() {
  const list = useResource(() => alertsApi.thresholds(), []);
  const [form, setForm] = useState({ metric: 'sms', limit: '', locationId: '' });
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const save = async (limit: string | null, target: { metric: string; locationId: string | null }) => {
    setState({ busy: true });
    try {
      list.set(await alertsApi.setThreshold({ ...target, limit }));
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const metric = form.metric.trim();
    const limit = metric === 'spend' ? majorToCents(form.limit) : form.limit.trim();
    if (!limit) return setState({ error: new Error('Enter a positive amount.') });
    void save(limit, { metric, locationId: form.locationId.trim() || null });
  };
  return (
    <section className="card" aria-labelledby="thresholds-title">
      <h2 id="thresholds-title">Usage and spend alerts</h2>
      <p className="muted">
        Alert once a billing month when a sub-account’s usage of a metric, or its estimated charges (“spend”), reaches a threshold. A sub-account’s
        own threshold replaces the default.
      </p>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorNotice error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty>No thresholds yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="thresholds" data-testid="thresholds">
            <thead>
              <tr>
                <th scope="col">Applies to</th>
                <th scope="col">Metric</th>
                <th scope="col">Threshold</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={`${t.locationId ?? ''}:${t.metric}`}>
                  <th scope="row">{t.locationId ?? 'Every sub-account (default)'}</th>
                  <td>{t.metric === 'spend' ? 'Spend' : metricLabel(t.metric)}</td>
                  <td>{limitText(t)}</td>
                  <td>
                    <Writes>
                      <button type="button" className="button small secondary" onClick={() => save(null, t)} disabled={state.busy}>
                        Remove
                      </button>
                    </Writes>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Writes>
        <form onSubmit={submit} className="inline threshold-form">
          <label>
            Metric (or “spend”)
            <input value={form.metric} maxLength={100} onChange={(e) => setForm({ ...form, metric: e.target.value })} />
          </label>
          <label>
            Threshold {form.metric.trim() === 'spend' ? '(amount)' : '(units)'}
            <input value={form.limit} inputMode="decimal" onChange={(e) => setForm({ ...form, limit: e.target.value })} />
          </label>
          <label>
            Sub-account id (empty: default)
            <input value={form.locationId} maxLength={100} onChange={(e) => setForm({ ...form, locationId: e.target.value })} />
          </label>
          <button type="submit" className="button" disabled={state.busy}>
            Set threshold
          </button>
        </form>
      </Writes>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </section>
  );
}
