/**
 * A sub-account's plan: the plan in force (its own, else the agency's default) and a change of plan, with how
 * Stripe settles the change mid-period, stated before it is made.
 */
import { useState } from 'react';
import { catalogApi, type PlanChange } from '../api-catalog';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { Editing, Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { formatCents } from '../format';
import { allowanceText } from './Plans';

const PRORATIONS: Array<{ value: NonNullable<PlanChange['proration']>; label: string }> = [
  { value: 'create_prorations', label: 'Prorate: credit the unused part of the old plan and charge the new one’s on the next invoice' },
  { value: 'always_invoice', label: 'Prorate and invoice the difference now' },
  { value: 'none', label: 'No proration: the new prices apply from the next period' },
];

export function SubAccountPlan({ locationId, onChanged }: { locationId: string; onChanged: () => void }) {
  const current = useResource(() => catalogApi.subAccountPlan(locationId), [locationId]);
  const plans = useResource(() => catalogApi.plans(), []);
  const [choice, setChoice] = useState<string>('');
  const [proration, setProration] = useState<NonNullable<PlanChange['proration']>>('create_prorations');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const plan = current.data?.plan ?? null;
  const save = async () => {
    setState({ busy: true });
    try {
      current.set(await catalogApi.setSubAccountPlan(locationId, { planId: choice === 'default' ? null : Number(choice), proration }));
      setState({ message: 'Plan changed; the subscription follows in Stripe.' });
      onChanged();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <section className="card" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan</h2>
      {current.loading && !current.data ? <Loading /> : null}
      {current.error ? <ErrorNotice error={current.error} onRetry={current.reload} /> : null}
      {current.data ? (
        <div data-testid="plan-in-force">
          {plan ? (
            <>
              <p>
                <strong>{plan.name}</strong>
                {current.data.planId === null ? ' (the agency’s default)' : ''}: {plan.baseFeeAmount > 0 ? `${formatCents(plan.baseFeeAmount, plan.currency)} / ${plan.interval}` : 'no base fee'}
              </p>
              {plan.metrics.map((m) => (
                <p key={m.metric} className="small">
                  {allowanceText(m, plan.currency)}
                </p>
              ))}
            </>
          ) : (
            <p className="muted">No plan: the pricing page’s flat fee and prices apply.</p>
          )}
        </div>
      ) : null}
      <Editing>
        <div className="row">
          <label htmlFor="plan-choice">Change to</label>
          <select id="plan-choice" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">Choose a plan…</option>
            <option value="default">The agency’s default</option>
            {(plans.data?.plans ?? [])
              .filter((p) => !p.archived && !p.isDefault)
              .map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
          </select>
        </div>
        {/* How to prorate matters once a plan is chosen: asked then, so the card stays short until it is used. */}
        {choice ? (
          <fieldset className="plain">
            <legend className="small">When the plan changes mid-period</legend>
            {PRORATIONS.map((p) => (
              <label key={p.value} className="checkbox">
                <input type="radio" name="plan-proration" checked={proration === p.value} onChange={() => setProration(p.value)} /> {p.label}
              </label>
            ))}
          </fieldset>
        ) : null}
      </Editing>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      <Writes>
        <button type="button" className="button" disabled={state.busy || !choice} onClick={save}>
          Change plan
        </button>
      </Writes>
    </section>
  );
}
