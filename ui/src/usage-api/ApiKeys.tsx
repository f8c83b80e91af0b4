/** The agency's API keys: create one (the key is shown once, with a copy button), list them by prefix, revoke one. */
import { useState, type FormEvent } from 'react';
import { api, type ApiKey, type CreatedApiKey } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';
import { formatInstant } from '../format';
import { CopyButton } from './CopyButton';
import { ConfirmedAction } from '../components/ConfirmedAction';

/** The API-key card: create form, the new key (once), and the list. */
export function ApiKeys() {
  const keys = useResource(() => api.apiKeys(), []);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <section className="card" aria-labelledby="api-keys-title">
      <h2 id="api-keys-title">API keys</h2>
      <p className="muted small">A key lets a program post usage for this agency’s sub-accounts. Give each program its own key, so you can revoke one alone.</p>
      <CreateKeyForm
        onCreated={(key) => {
          setCreated(key);
          setMessage(null);
          keys.reload();
        }}
      />
      {created ? <NewKeyOnce created={created} onDismiss={() => setCreated(null)} /> : null}
      {message ? <Notice>{message}</Notice> : null}
      {keys.error ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> : null}
      {keys.loading && !keys.data ? <Loading /> : null}
      {keys.data && keys.data.keys.length === 0 ? <Empty>No API key yet.</Empty> : null}
      {keys.data && keys.data.keys.length > 0 ? (
        <KeyTable
          keys={keys.data.keys}
          onRevoked={(key) => {
            setMessage(`Key “${key.name}” (${key.prefix}…) revoked: it is refused from now on.`);
            if (created?.id === key.id) setCreated(null);
            keys.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onCreated(await api.createApiKey(name.trim()));
      setName('');
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="stack">
      <label htmlFor="api-key-name">New key’s name</label>
      <div className="inline">
        <input id="api-key-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder="e.g. Voice vendor" />
        <button type="submit" className="button" disabled={state.busy || name.trim() === ''}>
          Create API key
        </button>
      </div>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </form>
  );
}

/** The key just created: the only time it is shown. */
function NewKeyOnce({ created, onDismiss }: { created: CreatedApiKey; onDismiss: () => void }) {
  return (
    <div className="new-key" role="region" aria-labelledby="new-key-title">
      <h3 id="new-key-title">Key “{created.name}” created</h3>
      <p className="state-warn">
        <strong>Copy it now: you will not see this key again.</strong> Meterbridge keeps only a fingerprint of it; if it is lost, create a new one and
        revoke this one.
      </p>
      <label htmlFor="new-api-key">Your new API key</label>
      <div className="inline">
        <input id="new-api-key" className="mono" readOnly value={created.key} onFocus={(e) => e.target.select()} spellCheck={false} />
        <CopyButton text={created.key} label="Copy key" />
      </div>
      <div className="actions">
        <button type="button" className="button secondary small" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

function KeyTable({ keys, onRevoked }: { keys: ApiKey[]; onRevoked: (key: ApiKey) => void }) {
  return (
    <div className="table-wrap">
      <table className="api-keys">
        <caption className="visually-hidden">API keys, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-prefix={k.prefix} data-revoked={k.revokedAt ? 'true' : 'false'}>
              <th scope="row">{k.name}</th>
              <td>
                <code className="nowrap">{k.prefix}…</code>
              </td>
              <td>{formatInstant(k.createdAt)}</td>
              <td>{k.lastUsedAt ? formatInstant(k.lastUsedAt) : <span className="muted">Never</span>}</td>
              <td>
                {k.revokedAt ? (
                  <>
                    <span className="badge bad">Revoked</span>
                    <span className="muted small block">{formatInstant(k.revokedAt)}</span>
                  </>
                ) : (
                  <span className="badge ok">Active</span>
                )}
              </td>
              <td className="actions-cell">{k.revokedAt ? null : <RevokeKey apiKey={k} onRevoked={onRevoked} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Revoke, after a confirmation (a revoked key cannot be restored). */
function RevokeKey({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (key: ApiKey) => void }) {
  return (
    <ConfirmedAction
      label="Revoke"
      ariaLabel={`Revoke ${apiKey.name} (${apiKey.prefix})`}
      question="Refuse this key for good?"
      confirmLabel="Yes, revoke"
      groupLabel={`Confirm revoking ${apiKey.name}`}
      run={async () => onRevoked(await api.revokeApiKey(apiKey.id))}
    />
  );
}
