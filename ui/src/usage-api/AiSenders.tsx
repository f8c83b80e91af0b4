/**
 * The agency's AI senders: who writes its AI messages, so their outbound texts count as `ai_messages` and
 * `ai_tokens` (GET/PUT /api/ai-senders; README "AI usage"). Markers are edited as a draft, then saved together.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, api } from '../api';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { useResource } from '../components/useResource';

/** The four marker forms the server accepts. */
export type MarkerKind = 'user' | 'provider' | 'source' | 'unattended';

const KINDS: Array<{ kind: MarkerKind; label: string; catches: ReactNode; placeholder?: string }> = [
  { kind: 'user', label: 'HighLevel user id', catches: 'Messages that user sends: an AI integration posting as its own user.', placeholder: 'e.g. the AI bot’s user id' },
  {
    kind: 'provider',
    label: 'Conversation provider id',
    catches: 'Messages sent through that provider: an AI app with its own provider. People sending through it count too.',
    placeholder: 'e.g. cpAiReceptionist0001',
  },
  {
    kind: 'source',
    label: 'Message source',
    catches: (
      <>
        Every message with that source, e.g. <code>api</code> when your only API sender is an AI bot (<code>app</code> would count people).
      </>
    ),
    placeholder: 'api',
  },
  {
    kind: 'unattended',
    label: 'Unattended (no user, sent by HighLevel)',
    catches: 'A guess: messages no person sent, where Conversation AI auto-pilot replies are expected. Not verified; may over- or under-count.',
  },
];

const SOURCES = ['api', 'workflow', 'campaign', 'bulk_actions', 'app'];

/** A marker split into its kind and value (`unattended` has none; an unknown form shows whole as its value). */
export function parseMarker(marker: string): { kind: MarkerKind | null; value: string } {
  if (marker === 'unattended') return { kind: 'unattended', value: '' };
  const colon = marker.indexOf(':');
  const kind = marker.slice(0, colon);
  return colon > 0 && KINDS.some((k) => k.kind === kind) ? { kind: kind as MarkerKind, value: marker.slice(colon + 1) } : { kind: null, value: marker };
}

const kindInfo = (kind: MarkerKind | null) => KINDS.find((k) => k.kind === kind);

/** What the server accepts as an id or a source: letters, digits, "_" and "-", up to 200 (server/metering/ai-messages.ts). */
const VALID_VALUE = /^[A-Za-z0-9_-]{1,200}$/;

/** Why a value cannot be a marker, in words; null when it can. */
export function valueProblem(kind: MarkerKind, value: string): string | null {
  if (kind === 'unattended' || VALID_VALUE.test(value)) return null;
  return `“${value}” cannot be a ${kindInfo(kind)!.label.toLowerCase()}: use only letters, digits, “_” and “-”, without spaces or commas.`;
}

/** The server's refusal in words (its message spells the marker grammar). */
function saveRefusal(error: unknown): unknown {
  return error instanceof ApiError && error.code === 'invalid_marker'
    ? new Error('One of the senders is not valid: a user id, provider id or source uses only letters, digits, “_” and “-”. Remove it and add it again.')
    : error;
}
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((m, i) => m === b[i]);

/** The "AI messages" card: what HighLevel does and does not tell, the agency's markers, the add form and Save. */
export function AiSendersCard() {
  const saved = useResource(() => api.aiSenders(), []);
  const [draft, setDraft] = useState<string[] | null>(null);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  useEffect(() => {
    if (saved.data) setDraft(saved.data.markers);
  }, [saved.data]);
  const dirty = draft !== null && saved.data !== undefined && !sameList(draft, saved.data.markers);

  const save = async () => {
    if (!draft) return;
    setState({ busy: true });
    try {
      const next = await api.setAiSenders(draft);
      saved.set(next);
      setState({ message: next.markers.length ? `AI senders saved: ${next.markers.length} marker${next.markers.length === 1 ? '' : 's'}.` : 'AI senders saved: no message counts as AI.' });
    } catch (error) {
      setState({ error: saveRefusal(error) });
    }
  };

  return (
    <section className="card" aria-labelledby="ai-senders-title">
      <h2 id="ai-senders-title">AI messages</h2>
      <AiMarkersExplainer />
      {saved.error ? <ErrorNotice error={saved.error} onRetry={saved.reload} /> : null}
      {saved.loading && !saved.data ? <Loading /> : null}
      {draft ? (
        <>
          {draft.length === 0 ? <Empty>No AI sender: no message counts as AI.</Empty> : <MarkerTable markers={draft} onRemove={(m) => setDraft(draft.filter((x) => x !== m))} />}
          <AddMarkerForm
            onAdd={(m) => {
              setState({});
              if (!draft.includes(m)) setDraft([...draft, m]);
            }}
          />
          <div className="actions">
            <button type="button" className="button" disabled={!dirty || state.busy} onClick={save}>
              Save AI senders
            </button>
            {dirty ? (
              <button type="button" className="button secondary" disabled={state.busy} onClick={() => (setDraft(saved.data!.markers), setState({}))}>
                Discard changes
              </button>
            ) : null}
            {dirty ? <span className="muted small copy-result">Unsaved changes.</span> : null}
          </div>
          {state.error ? <ErrorNotice error={state.error} /> : null}
          {state.message && !dirty ? <Notice>{state.message}</Notice> : null}
        </>
      ) : null}
    </section>
  );
}

/** Plain words on why markers are needed, what each kind catches, and how to try one safely. */
function AiMarkersExplainer() {
  return (
    <>
      <p className="muted small">
        HighLevel does not mark which messages an AI wrote. Tell Meterbridge who writes yours: their outbound texts then count as{' '}
        <code>ai_messages</code> (one each) and <code>ai_tokens</code>, on top of the channel’s own usage (an AI-written SMS is still an SMS). With no
        marker, nothing is AI.
      </p>
      <ul className="muted small ai-kinds">
        {KINDS.map((k) => (
          <li key={k.kind}>
            <strong>{k.label}</strong>: {k.catches}
          </li>
        ))}
      </ul>
      <p className="muted small">
        Tokens are an estimate: the message text counted with OpenAI’s <code>o200k_base</code> encoding, not what the model was billed for. Try a
        marker on a sub-account in shadow mode first, and check what it would bill before billing it live.
      </p>
    </>
  );
}

/** The draft markers, each with a Remove button. */
function MarkerTable({ markers, onRemove }: { markers: string[]; onRemove: (marker: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="ai-senders">
        <caption className="visually-hidden">AI senders</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {markers.map((m) => {
            const { kind, value } = parseMarker(m);
            return (
              <tr key={m} data-marker={m}>
                <th scope="row">{kindInfo(kind)?.label ?? 'Unknown'}</th>
                <td>{value ? <code>{value}</code> : <span className="muted">—</span>}</td>
                <td className="actions-cell">
                  <button type="button" className="button secondary small" onClick={() => onRemove(m)} aria-label={`Remove ${m}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Kind select plus value field (none for `unattended`); adds to the draft, which Save sends. */
function AddMarkerForm({ onAdd }: { onAdd: (marker: string) => void }) {
  const [kind, setKind] = useState<MarkerKind>('provider');
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const needsValue = kind !== 'unattended';
  const info = kindInfo(kind)!;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wrong = needsValue ? valueProblem(kind, value.trim()) : null;
    setProblem(wrong);
    if (wrong) return;
    onAdd(needsValue ? `${kind}:${value.trim()}` : 'unattended');
    setValue('');
  };
  return (
    <form onSubmit={submit} className="metric-form" aria-label="Add an AI sender">
      <div className="row">
        <label htmlFor="ai-sender-kind">Kind</label>
        <select id="ai-sender-kind" value={kind} onChange={(e) => setKind(e.target.value as MarkerKind)}>
          {KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </select>
      </div>
      {needsValue ? (
        <div className="row">
          <label htmlFor="ai-sender-value">{info.label}</label>
          <input
            id="ai-sender-value"
            value={value}
            maxLength={200}
            onChange={(e) => setValue(e.target.value)}
            placeholder={info.placeholder}
            list={kind === 'source' ? 'ai-sender-sources' : undefined}
            spellCheck={false}
            autoComplete="off"
          />
          <datalist id="ai-sender-sources">
            {SOURCES.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </div>
      ) : null}
      <div className="row">
        <button type="submit" className="button secondary" disabled={needsValue && !value.trim()}>
          Add sender
        </button>
      </div>
      {problem ? <ErrorNotice error={new Error(problem)} /> : null}
    </form>
  );
}
