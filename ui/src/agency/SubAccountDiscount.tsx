/**
 * A sub-account's discount: the coupon in force on its subscription and until when (a repeating coupon ends; once
 * is the next invoice; forever runs with the subscription), apply another coupon (it replaces the discount), or
 * remove it.
 */
import { useState } from 'react';
import { catalogApi, type SubAccountDiscount as Discounted } from '../api-catalog';
import { ErrorNotice, Loading, Notice } from '../components/States';
import { Editing, Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { couponText, discountUntil } from './couponText';

/** `onChanged`: after a coupon is applied, replaced or removed (the next invoice changes with it). */
export function SubAccountDiscount({ locationId, subscriptionId, onChanged }: { locationId: string; subscriptionId: string | null; onChanged?: () => void }) {
  const discount = useResource(() => catalogApi.discount(locationId), [locationId, subscriptionId]);
  const coupons = useResource(() => catalogApi.coupons(), []);
  const [chosen, setChosen] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; message?: string }>({});
  const run = async (message: string, action: () => Promise<Discounted>) => {
    setState({ busy: true });
    try {
      discount.set(await action());
      setState({ message });
      onChanged?.();
    } catch (error) {
      setState({ error });
    }
  };
  const d = discount.data?.discount ?? null;
  const usable = (coupons.data?.coupons ?? []).filter((c) => c.valid);
  return (
    <section className="card" aria-labelledby="discount-title">
      <h2 id="discount-title">Discount</h2>
      {discount.loading && !discount.data ? <Loading /> : null}
      {discount.error ? <ErrorNotice error={discount.error} onRetry={discount.reload} /> : null}
      {discount.data && !subscriptionId ? <p className="muted">No running subscription: a coupon applies once it exists.</p> : null}
      {discount.data && subscriptionId && !d ? <p className="muted" data-testid="no-discount">No discount: the client pays full price.</p> : null}
      {d ? (
        <p data-testid="discount-in-force">
          <strong>{d.coupon.name ?? d.coupon.id}</strong>: {couponText(d.coupon)}, {discountUntil(d)}. <span className="muted small">Applied {d.start.slice(0, 10)}.</span>
        </p>
      ) : null}
      {subscriptionId ? (
        <Editing>
          <div className="row">
            <label htmlFor="discount-coupon">Coupon</label>
            <select id="discount-coupon" value={chosen} onChange={(e) => setChosen(e.target.value)}>
              <option value="">Choose a coupon…</option>
              {usable.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name ?? c.id} — {couponText(c)}
                </option>
              ))}
            </select>
          </div>
        </Editing>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.message ? <Notice>{state.message}</Notice> : null}
      {subscriptionId ? (
        <Writes>
          <div className="actions">
            <button type="button" className="button" disabled={state.busy || !chosen} onClick={() => run('Coupon applied in Stripe.', () => catalogApi.applyDiscount(locationId, chosen))}>
              {d ? 'Replace the discount' : 'Apply coupon'}
            </button>
            {d ? (
              <button type="button" className="button secondary" disabled={state.busy} onClick={() => run('Discount removed in Stripe.', () => catalogApi.removeDiscount(locationId))}>
                Remove the discount
              </button>
            ) : null}
          </div>
        </Writes>
      ) : null}
    </section>
  );
}
