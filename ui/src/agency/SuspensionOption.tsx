/**
 * The agency's suspension policy for non-payment: off (the default), stop billing new usage, or also pause the
 * sub-account in HighLevel; and after how many failed payment attempts (1–10). Agency admins change it; others read.
 */
import { useState, type FormEvent } from 'react';
import type { SuspensionPolicy, SuspensionSettings } from '../api-types-suspension';
import { Editing } from '../components/permissions';
import { ErrorNotice, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { suspensionApi } from '../suspension-api';

const POLICIES: Array<{ value: SuspensionPolicy; label: string; help: string }> = [
  { value: 'off', label: 'Off', help: 'Failed payments change nothing: usage keeps being billed.' },
  { value: 'stop_billing', label: 'Stop billing new usage', help: 'Usage is still counted, but held back from Stripe until the invoice is paid; then it is billed.' },
  {
    value: 'stop_billing_and_pause',
    label: 'Stop billing and pause the sub-account in HighLevel',
    help: 'Also pauses the sub-account through HighLevel’s SaaS API (Agency Pro plan), and resumes it once the invoice is paid.',
  },
];

/** The policy card (Invoices page): loads the settings, then the form. */
export function SuspensionOption() {
  const settings = useResource(() => suspensionApi.settings(), []);
  if (!settings.data) return settings.error ? <ErrorNotice error={settings.error} onRetry={settings.reload} /> : null;
  return <SuspensionForm saved={settings.data} onSaved={settings.set} />;
}

function SuspensionForm({ saved, onSaved }: { saved: SuspensionSettings; onSaved: (s: SuspensionSettings) => void }) {
  const [policy, setPolicy] = useState(saved.policy);
  const [attempts, setAttempts] = useState(String(saved.afterAttempts));
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const n = Number(attempts);
  const valid = Number.isInteger(n) && n >= 1 && n <= 10;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onSaved(await suspensionApi.setSettings({ policy, afterAttempts: n }));
      setState({ message: 'Suspension policy saved.' });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <section className="card" aria-labelledby="suspension-title">
      <h2 id="suspension-title">Suspension for non-payment</h2>
      <form onSubmit={submit} className="stack">
        <Editing>
          <fieldset className="plain stack">
            <legend>When a client does not pay</legend>
            {POLICIES.map((p) => (
              <label key={p.value} className="radio">
                <input type="radio" name="suspension-policy" value={p.value} checked={policy === p.value} onChange={() => setPolicy(p.value)} />
                <span>
                  {p.label}
                  <span className="muted small block">{p.help}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <div className="row">
            <label htmlFor="suspension-attempts">Suspend after this many failed payment attempts of one invoice (1–10)</label>
            <input id="suspension-attempts" type="number" min={1} max={10} step={1} value={attempts} onChange={(e) => setAttempts(e.target.value)} disabled={policy === 'off'} aria-invalid={!valid} />
          </div>
          <p className="muted small">A subscription Stripe cancels for non-payment is suspended at once. Paying the invoice resumes it; you can also resume a sub-account by hand from its page.</p>
          <button type="submit" className="button" disabled={state.busy || !valid}>
            Save the policy
          </button>
        </Editing>
      </form>
      {policy === 'stop_billing_and_pause' && !saved.highLevelPauseScope ? (
        <p className="notice notice-error" role="status">
          Your HighLevel installation does not grant <code>saas/company.write</code>, which the pause needs: reinstall Meterbridge at the agency level. Until then HighLevel
          refuses the pause (its message shows on the sub-account) and only billing stops.
        </p>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
    </section>
  );
}
