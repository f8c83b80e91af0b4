/**
 * The agency's own name for a client (a nickname beside HighLevel's sub-account name): shown on the sub-account's
 * page and in the list, and found by the list's search. Blank removes it. Folded to one line under the page's title
 * (it is set once): opening it shows the field.
 */
import { useState, type FormEvent } from 'react';
import type { SubAccountDetail } from '../api';
import { catalogApi } from '../api-catalog';
import { ErrorNotice } from '../components/States';
import { Writes } from '../components/permissions';

export function NicknameEditor({ detail, onSaved }: { detail: SubAccountDetail; onSaved: (d: SubAccountDetail) => void }) {
  const [nickname, setNickname] = useState(detail.nickname ?? '');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      onSaved(await catalogApi.setNickname(detail.locationId, nickname.trim() || null));
      setState({ saved: true });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <Writes>
      <details className="nickname">
        <summary>{detail.nickname ? 'Change your name for this client' : 'Give this client your own name'}</summary>
        <form className="row" onSubmit={submit} aria-label="Nickname">
          <label htmlFor="nickname">Your name for this client</label>
          <input id="nickname" maxLength={100} value={nickname} placeholder="None" onChange={(e) => (setNickname(e.target.value), setState({}))} />
          <button type="submit" className="button small secondary" disabled={state.busy || nickname.trim() === (detail.nickname ?? '')}>
            Save nickname
          </button>
          {state.saved ? <span className="small muted" role="status">Saved.</span> : null}
        </form>
        {state.error ? <ErrorNotice error={state.error} /> : null}
      </details>
    </Writes>
  );
}
