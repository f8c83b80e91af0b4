/**
 * Which email the agency bills, shown on the pricing page with the default (GET/PUT /api/email-billing; README
 * "What is billed"). HighLevel reports LC Email twice — each conversation email, and LCEmailStats events (campaigns
 * and bulk email included) — so exactly one source bills and the other is recorded at 0: nothing counts twice.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, type EmailBilling as Setting, type EmailBillingSource } from '../api';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { Writes } from '../components/permissions';

const SOURCES: Array<{ value: EmailBillingSource; label: string; detail: string }> = [
  {
    value: 'conversations',
    label: 'Conversation emails sent through LC Email',
    detail: 'Emails in conversations and workflows. Sent through a user’s own Gmail, Outlook or SMTP: recorded, not billed. Email campaigns are not included.',
  },
  {
    value: 'lc_email_stats',
    label: 'LC Email delivery reports (LCEmailStats)',
    detail: 'One per email LC Email delivered, campaigns and bulk email included. HighLevel sends these to sub-account installs only.',
  },
];

export function EmailBilling() {
  const setting = useResource(() => api.emailBilling(), []);
  return (
    <section className="card" aria-labelledby="email-billing-title">
      <h2 id="email-billing-title">Which emails are billed</h2>
      {setting.loading && !setting.data ? <Loading /> : null}
      {setting.error ? <ErrorNotice error={setting.error} onRetry={setting.reload} /> : null}
      {setting.data ? <EmailBillingForm setting={setting.data} onSaved={setting.set} /> : null}
    </section>
  );
}

function EmailBillingForm({ setting, onSaved }: { setting: Setting; onSaved: (s: Setting) => void }) {
  const [source, setSource] = useState(setting.source);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean }>({});
  useEffect(() => setSource(setting.source), [setting.source]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onSaved(await api.setEmailBilling(source));
      setState({ saved: true });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit}>
      <fieldset>
        <legend>Bill email from (never both)</legend>
        {SOURCES.map((s) => (
          <div className="row" key={s.value}>
            <label className="checkbox">
              <input type="radio" name="email-billing-source" value={s.value} checked={source === s.value} onChange={() => setSource(s.value)} />
              {s.label}
              {s.value === setting.default ? ' (default)' : ''}
            </label>
            <p className="muted small">{s.detail}</p>
          </div>
        ))}
      </fieldset>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.saved ? <Notice>Email billing saved.</Notice> : null}
      <Writes>
        <button type="submit" className="button" disabled={state.busy || source === setting.source}>
          Save email billing
        </button>
      </Writes>
    </form>
  );
}
