/** The agency's custom metrics for the usage API: define one (key, label, unit), list them, archive one. */
import { useState, type FormEvent } from 'react';
import { api, type CustomMetric } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant, setCustomMetricLabels } from '../format';
import { Link } from '../router';
import { ConfirmedAction } from '../components/ConfirmedAction';

const KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** The custom-metric card: the definition form and the list, active first. */
export function CustomMetrics() {
  const metrics = useResource(() => api.customMetrics(), []);
  if (metrics.data) setCustomMetricLabels(metrics.data.metrics);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <section className="card" aria-labelledby="custom-metrics-title">
      <h2 id="custom-metrics-title">Custom metrics</h2>
      <p className="muted small">
        Besides the built-in metrics (<code>sms</code>, <code>call_minutes</code>, <code>ai_tokens</code>, …), post usage for metrics of your own. Price
        them on the <Link to="/pricing">Pricing</Link> page like any metric.
      </p>
      <DefineMetricForm
        onDefined={(m) => {
          setMessage(`Metric ${m.key} defined.`);
          metrics.reload();
        }}
      />
      {message ? <Notice>{message}</Notice> : null}
      {metrics.error ? <ErrorNotice error={metrics.error} onRetry={metrics.reload} /> : null}
      {metrics.loading && !metrics.data ? <Loading /> : null}
      {metrics.data && metrics.data.metrics.length === 0 ? <Empty>No custom metric yet.</Empty> : null}
      {metrics.data && metrics.data.metrics.length > 0 ? (
        <MetricTable
          metrics={metrics.data.metrics}
          onArchived={(m) => {
            setMessage(`Metric ${m.key} archived: new usage for it is refused.`);
            metrics.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function DefineMetricForm({ onDefined }: { onDefined: (m: CustomMetric) => void }) {
  const [key, setKey] = useState('');
  const [label, setLabel] = useState('');
  const [unit, setUnit] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const keyInvalid = key !== '' && !KEY_PATTERN.test(key);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onDefined(await api.defineCustomMetric({ key, label: label.trim(), unit: unit.trim() }));
      setKey('');
      setLabel('');
      setUnit('');
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="metric-form">
      <div className="row">
        <label htmlFor="metric-key">Key</label>
        <input id="metric-key" value={key} onChange={(e) => setKey(e.target.value)} placeholder="vapi_minutes" aria-invalid={keyInvalid} aria-describedby="metric-key-help" spellCheck={false} />
      </div>
      <div className="row">
        <label htmlFor="metric-label">Label</label>
        <input id="metric-label" value={label} maxLength={100} onChange={(e) => setLabel(e.target.value)} placeholder="Vapi minutes" />
      </div>
      <div className="row">
        <label htmlFor="metric-unit">Unit</label>
        <input id="metric-unit" value={unit} maxLength={40} onChange={(e) => setUnit(e.target.value)} placeholder="minute" className="short" />
      </div>
      <div className="row">
        <button type="submit" className="button" disabled={state.busy || keyInvalid || !key || !label.trim() || !unit.trim()}>
          Define metric
        </button>
      </div>
      <p id="metric-key-help" className="muted small form-help">
        The key is what usage names (<code className="nowrap">vapi_minutes</code>): lower snake case, not a built-in metric. The label is shown here and
        in Stripe; the unit is what one unit of quantity counts (minute, token, GB).
      </p>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </form>
  );
}

function MetricTable({ metrics, onArchived }: { metrics: CustomMetric[]; onArchived: (m: CustomMetric) => void }) {
  return (
    <div className="table-wrap">
      <table className="custom-metrics">
        <caption className="visually-hidden">Custom metrics, active first</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Label</th>
            <th scope="col">Unit</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((m) => (
            <tr key={m.key} data-metric={m.key}>
              <th scope="row">
                <code className="nowrap">{m.key}</code>
              </th>
              <td>{m.label}</td>
              <td>{m.unit}</td>
              <td>{m.archivedAt ? <span className="badge warn" title={`Archived ${formatInstant(m.archivedAt)}`}>Archived</span> : <span className="badge ok">Active</span>}</td>
              <td className="actions-cell">{m.archivedAt ? null : <ArchiveMetric metric={m} onArchived={onArchived} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">Defining an archived key again restores it.</p>
    </div>
  );
}

/** Archive, after a confirmation. */
function ArchiveMetric({ metric, onArchived }: { metric: CustomMetric; onArchived: (m: CustomMetric) => void }) {
  return (
    <ConfirmedAction
      label="Archive"
      ariaLabel={`Archive ${metric.key}`}
      question="Refuse new usage?"
      confirmLabel="Yes, archive"
      groupLabel={`Confirm archiving ${metric.key}`}
      run={async () => onArchived(await api.archiveCustomMetric(metric.key))}
    />
  );
}
