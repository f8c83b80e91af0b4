/**
 * The agency's plans: a base fee per interval and, per metric, units included each period then an overage price (a
 * graduated Stripe price whose first tier is free), and an optional trial for new subscriptions. The default plan
 * applies to every sub-account without a plan of its own; its base fee is the flat fee of the pricing page. A plan
 * other than the default can be archived: no longer offered, sub-accounts on it stay.
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { catalogApi, type NewPlan, type Plan } from '../api-catalog';

/** A plan's billing interval (the base fee's and its prices'). */
type NewPlanInterval = NonNullable<NewPlan['interval']>;
import { ConfirmedAction } from '../components/ConfirmedAction';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { formatCents, formatNumber, majorToCents, metricLabel } from '../format';

/** "1,000 included, then $0.015 each" for one metric of a plan. */
export function allowanceText(m: Plan['metrics'][number], currency: string): string {
  const each = `${formatCents(m.overageUnitAmountDecimal, currency)} each`;
  return m.includedUnits > 0 ? `${metricLabel(m.metric)}: ${formatNumber(m.includedUnits)} included, then ${each}` : `${metricLabel(m.metric)}: ${each}`;
}

export function Plans() {
  const plans = useResource(() => catalogApi.plans(), []);
  const [message, setMessage] = useState<string | null>(null);
  const list = plans.data?.plans ?? [];
  return (
    <section className="card" aria-labelledby="plans-title">
      <h2 id="plans-title">Plans</h2>
      <p className="muted small">
        A plan is a base fee plus, per metric, units included each period and a price for each unit over. Metrics a plan does not name are billed at the
        pricing page’s prices. Choose a sub-account’s plan on its page.
      </p>
      <Writes>
        <PlanForm
          onCreated={(p) => {
            setMessage(`Plan “${p.name}” created in Stripe.`);
            plans.reload();
          }}
        />
      </Writes>
      {message ? <Notice>{message}</Notice> : null}
      {plans.error ? <ErrorNotice error={plans.error} onRetry={plans.reload} /> : null}
      {plans.loading && !plans.data ? <Loading /> : null}
      {plans.data && list.length === 0 ? <Empty>No plan yet: sub-accounts pay the pricing page’s flat fee and prices.</Empty> : null}
      {list.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Plans">
            <thead>
              <tr>
                <th>Plan</th>
                <th className="num">Base fee</th>
                <th>Included usage</th>
                <th>Trial</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.id}>
                  <td>
                    {p.name} {p.isDefault ? <span className="badge ok">Default</span> : null}
                    {p.archived ? <span className="badge warn">Archived</span> : null}
                  </td>
                  <td className="num">
                    {p.baseFeeAmount > 0 ? formatCents(p.baseFeeAmount, p.currency) : '—'} / {p.interval}
                  </td>
                  <td>{p.metrics.length === 0 ? <span className="muted">Pricing page prices</span> : p.metrics.map((m) => <div key={m.metric}>{allowanceText(m, p.currency)}</div>)}</td>
                  <td>{p.trialDays ? `${p.trialDays} days` : <span className="muted">None</span>}</td>
                  <td>
                    {!p.archived && !p.isDefault ? (
                      <Writes>
                        <ConfirmedAction
                          label="Archive"
                          ariaLabel={`Archive plan ${p.name}`}
                          question="Archive it? It can no longer be chosen; sub-accounts on it stay on it."
                          confirmLabel="Archive"
                          groupLabel={`Confirm archiving ${p.name}`}
                          run={async () => {
                            await catalogApi.archivePlan(p.id);
                            setMessage(`Plan “${p.name}” archived.`);
                            plans.reload();
                          }}
                        />
                      </Writes>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function PlanForm({ onCreated }: { onCreated: (p: Plan) => void }) {
  const grid = useResource(() => api.pricing(), []);
  const [name, setName] = useState('');
  const [fee, setFee] = useState('');
  const [metric, setMetric] = useState('');
  const [included, setIncluded] = useState('');
  const [overage, setOverage] = useState('');
  const [isDefault, setIsDefault] = useState(false);
  const [interval, setPlanInterval] = useState<NewPlanInterval>('month');
  const [trial, setTrial] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const currency = grid.data?.currency ?? 'usd';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const feeCents = fee.trim() ? majorToCents(fee) : '0';
    if (feeCents === null || feeCents.includes('.')) return setState({ error: new Error('Type the base fee in whole cents at most, e.g. 99 or 99.50.') });
    const overageCents = metric ? majorToCents(overage) : null;
    if (metric && overageCents === null) return setState({ error: new Error('Type the price per unit over the allowance, e.g. 0.015.') });
    const trialDays = trial.trim() ? Number(trial) : undefined;
    if (trialDays !== undefined && !(Number.isInteger(trialDays) && trialDays >= 1 && trialDays <= 730)) {
      return setState({ error: new Error('A trial is a whole number of days from 1 to 730.') });
    }
    setState({ busy: true });
    try {
      onCreated(
        await catalogApi.createPlan({
          name: name.trim(),
          currency,
          interval,
          baseFeeAmount: Number(feeCents),
          ...(trialDays ? { trialDays } : {}),
          metrics: metric ? [{ metric, includedUnits: Number(included || '0'), overageUnitAmountDecimal: overageCents! }] : [],
          isDefault,
        }),
      );
      setName('');
      setFee('');
      setMetric('');
      setIncluded('');
      setOverage('');
      setTrial('');
      setPlanInterval('month');
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="New plan">
      <div className="row">
        <label htmlFor="plan-name">Plan name</label>
        <input id="plan-name" value={name} required maxLength={100} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="plan-fee">Base fee ({currency.toUpperCase()})</label>
        <input id="plan-fee" className="short" inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} placeholder="99.00" />
        <label htmlFor="plan-interval">per</label>
        <select id="plan-interval" value={interval} onChange={(e) => setPlanInterval(e.target.value as NewPlanInterval)}>
          <option value="month">month</option>
          <option value="year">year</option>
          <option value="week">week</option>
          <option value="day">day</option>
        </select>
        <label htmlFor="plan-trial">Free trial (days, optional)</label>
        <input id="plan-trial" className="tiny" type="number" min={1} max={730} value={trial} onChange={(e) => setTrial(e.target.value)} placeholder="None" />
      </div>
      <div className="row">
        <label htmlFor="plan-metric">Included usage (optional)</label>
        <select id="plan-metric" value={metric} onChange={(e) => setMetric(e.target.value)}>
          <option value="">No allowance</option>
          {(grid.data?.rows ?? []).map((r) => (
            <option key={r.metric} value={r.metric}>
              {metricLabel(r.metric)}
            </option>
          ))}
        </select>
        {metric ? (
          <>
            <label htmlFor="plan-included">Units included</label>
            <input id="plan-included" className="short" type="number" min={0} value={included} onChange={(e) => setIncluded(e.target.value)} />
            <label htmlFor="plan-overage">Then per unit ({currency.toUpperCase()})</label>
            <input id="plan-overage" className="short" inputMode="decimal" required value={overage} onChange={(e) => setOverage(e.target.value)} placeholder="0.015" />
          </>
        ) : null}
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} /> Default plan for sub-accounts without one (its base fee
        becomes the flat fee)
      </label>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      <button type="submit" className="button" disabled={state.busy}>
        Create plan
      </button>
    </form>
  );
}
