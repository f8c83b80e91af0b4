/** A small destructive action behind a confirmation: the button, then "question? [Yes] [Keep it]". */
import { useState } from 'react';
import { ErrorNotice } from './States';

/**
 * @param label the button's text; `ariaLabel` names what it acts on ("Revoke Voice vendor (mbk_1234…)").
 * @param question asked before acting; `confirmLabel` the confirming button; `groupLabel` names the confirm group.
 * @param run does the action; a failure is shown under the button (the confirmation closes).
 */
export function ConfirmedAction(props: {
  label: string;
  ariaLabel: string;
  question: string;
  confirmLabel: string;
  groupLabel: string;
  run: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const act = async () => {
    setState({ busy: true });
    try {
      await props.run();
    } catch (error) {
      setState({ error });
      setConfirming(false);
    }
  };
  return confirming ? (
    <span className="confirm" role="group" aria-label={props.groupLabel}>
      <span>{props.question}</span>
      <button type="button" className="button danger small" disabled={state.busy} onClick={act}>
        {props.confirmLabel}
      </button>
      <button type="button" className="button secondary small" onClick={() => setConfirming(false)}>
        Keep it
      </button>
    </span>
  ) : (
    <>
      <button type="button" className="button danger small" onClick={() => setConfirming(true)} aria-label={props.ariaLabel}>
        {props.label}
      </button>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </>
  );
}
