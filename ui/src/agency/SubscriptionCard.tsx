/**
 * A sub-account's Stripe subscription: its items, Stripe Tax (loaded from what Stripe last answered, so an
 * update never turns it off unasked; switching it on may carry the billing address Stripe Tax needs) and an optional
 * start date (a later start is a Stripe subscription schedule, shown as scheduled until Stripe starts it). The coupon
 * is the Discount card's (SubAccountDiscount: the coupon in force, apply, replace, remove), not a field here. The
 * subscription links to the Stripe Dashboard (a schedule: its customer); ids only on hover.
 */
import { useState, type FormEvent } from 'react';
import { api, type BillingAddress, type SubAccountDetail } from '../api';
import { ErrorNotice, Notice } from '../components/States';
import { metricLabel } from '../format';
import { Editing, Writes } from '../components/permissions';
import { StripeLink } from '../components/StripeLink';

export function Subscription({ detail, onSaved }: { detail: SubAccountDetail; onSaved: (d: SubAccountDetail) => void }) {
  const [automaticTax, setAutomaticTax] = useState(detail.automaticTax);
  const [country, setCountry] = useState('');
  const [postalCode, setPostalCode] = useState('');
  const [startDay, setStartDay] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const items = detail.rules.filter((r) => r.enabled && r.stripePriceId);
  const canSchedule = !detail.stripeSubscriptionId;
  const switchingTaxOn = automaticTax && !detail.automaticTax;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    const billingAddress: BillingAddress | undefined =
      automaticTax && country.trim() && postalCode.trim() ? { country: country.trim().toUpperCase(), postalCode: postalCode.trim() } : undefined;
    try {
      const saved = await api.setBilling(detail.locationId, {
        subscription: {
          automaticTax,
          ...(billingAddress ? { billingAddress } : {}),
          ...(canSchedule && startDay ? { startAt: `${startDay}T00:00:00.000Z` } : {}),
        },
      });
      onSaved(saved);
      setState({ message: saved.scheduled ? 'Subscription scheduled in Stripe.' : 'Subscription saved in Stripe.' });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="subscription-title">
      <h2 id="subscription-title">Subscription</h2>
      <p>
        {detail.stripeSubscriptionId ? (
          <>
            Active in Stripe:{' '}
            <StripeLink kind="subscription" id={detail.stripeSubscriptionId} testId="subscription-link">
              Open in Stripe
            </StripeLink>
          </>
        ) : detail.scheduled ? (
          <span data-testid="subscription-scheduled">
            Scheduled: starts on {detail.subscriptionStartsAt?.slice(0, 10)} (UTC)
            {detail.stripeCustomerId ? (
              <>
                {' · '}
                <StripeLink kind="customer" id={detail.stripeCustomerId}>
                  See the customer in Stripe
                </StripeLink>
              </>
            ) : null}
          </span>
        ) : (
          <span className="muted">No subscription yet.</span>
        )}
      </p>
      <h3>Items</h3>
      {items.length === 0 ? (
        <p className="muted">No priced metric is in force: set prices first.</p>
      ) : (
        <ul className="inline-list">
          {items.map((r) => (
            <li key={r.metric} title={`Stripe price ${r.stripePriceId}`}>
              {metricLabel(r.metric)}
            </li>
          ))}
        </ul>
      )}
      <Editing>
      {canSchedule ? (
        <div className="row">
          <label htmlFor="start-day">Starts on (optional, UTC; empty: now)</label>
          <input id="start-day" type="date" value={startDay} onChange={(e) => setStartDay(e.target.value)} />
        </div>
      ) : null}
      <label className="checkbox">
        <input type="checkbox" checked={automaticTax} onChange={(e) => setAutomaticTax(e.target.checked)} />
        Stripe Tax calculates tax automatically
      </label>
      {switchingTaxOn ? (
        <fieldset className="row">
          <legend className="small">Billing address for Stripe Tax (leave empty if the Stripe customer has one)</legend>
          <label htmlFor="tax-country">Country (2 letters)</label>
          <input id="tax-country" value={country} maxLength={2} onChange={(e) => setCountry(e.target.value)} className="short" placeholder="US" />
          <label htmlFor="tax-postal-code">Postal code</label>
          <input id="tax-postal-code" value={postalCode} onChange={(e) => setPostalCode(e.target.value)} className="short" />
        </fieldset>
      ) : null}
      </Editing>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      <Writes>
        <button type="submit" className="button" disabled={state.busy || !detail.stripeCustomerId || !detail.rebillingEnabled}>
          {detail.stripeSubscriptionId || detail.scheduled ? 'Update subscription' : 'Create subscription'}
        </button>
        {!detail.stripeCustomerId ? <p className="muted small">Map a Stripe customer first.</p> : null}
      </Writes>
    </form>
  );
}
