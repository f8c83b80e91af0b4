/**
 * The agency's coupons (on its own Stripe account): create one (percent or fixed amount; once, forever or N months;
 * optional redemption limit and last redemption day), list them, archive one. Stripe coupons cannot be edited:
 * archiving deletes it in Stripe, and subscriptions that already have it keep their discount.
 */
import { useState, type FormEvent } from 'react';
import { catalogApi, type Coupon, type NewCoupon } from '../api-catalog';
import { ConfirmedAction } from '../components/ConfirmedAction';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { majorToCents } from '../format';
import { couponDuration, couponOff } from './couponText';

export function Coupons() {
  const coupons = useResource(() => catalogApi.coupons(), []);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <section className="card" aria-labelledby="coupons-title">
      <h2 id="coupons-title">Coupons</h2>
      <p className="muted small">
        Coupons live on your Stripe account. Apply one on a sub-account’s page. A coupon cannot be changed once made:
        archive it and make another. Archiving stops new uses; clients who have it keep their discount.
      </p>
      <Writes>
        <CouponForm
          onCreated={(c) => {
            setMessage(`Coupon “${c.name ?? c.id}” created in Stripe (${c.id}).`);
            coupons.reload();
          }}
        />
      </Writes>
      {message ? <Notice>{message}</Notice> : null}
      {coupons.error ? <ErrorNotice error={coupons.error} onRetry={coupons.reload} /> : null}
      {coupons.loading && !coupons.data ? <Loading /> : null}
      {coupons.data && coupons.data.coupons.length === 0 ? <Empty>No coupon yet.</Empty> : null}
      {coupons.data && coupons.data.coupons.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Coupons">
            <thead>
              <tr>
                <th>Name</th>
                <th>Discount</th>
                <th>Duration</th>
                <th>Used</th>
                <th>Redeem by</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {coupons.data.coupons.map((c) => (
                <CouponRow
                  key={c.id}
                  coupon={c}
                  onArchived={() => {
                    setMessage(`Coupon “${c.name ?? c.id}” archived: it can no longer be applied.`);
                    coupons.reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function CouponRow({ coupon: c, onArchived }: { coupon: Coupon; onArchived: () => void }) {
  return (
    <tr>
      <td>
        {c.name ?? c.id} <code className="small">{c.id}</code>
        {!c.valid ? <span className="badge warn">No longer redeemable</span> : null}
      </td>
      <td>{couponOff(c)}</td>
      <td>{couponDuration(c)}</td>
      <td>
        {c.timesRedeemed}
        {c.maxRedemptions !== null ? ` of ${c.maxRedemptions}` : ''}
      </td>
      <td>{c.redeemBy ? c.redeemBy.slice(0, 10) : '—'}</td>
      <td>
        <Writes>
          <ConfirmedAction
            label="Archive"
            ariaLabel={`Archive coupon ${c.name ?? c.id}`}
            question="Archive it? Clients who have it keep their discount."
            confirmLabel="Archive"
            groupLabel={`Confirm archiving ${c.name ?? c.id}`}
            run={async () => {
              await catalogApi.archiveCoupon(c.id);
              onArchived();
            }}
          />
        </Writes>
      </td>
    </tr>
  );
}

function CouponForm({ onCreated }: { onCreated: (c: Coupon) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'percent' | 'amount'>('percent');
  const [value, setValue] = useState('');
  const [currency, setCurrency] = useState('usd');
  const [duration, setDuration] = useState<NewCoupon['duration']>('once');
  const [months, setMonths] = useState('3');
  const [maxRedemptions, setMaxRedemptions] = useState('');
  const [redeemBy, setRedeemBy] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const cents = kind === 'amount' ? majorToCents(value) : null;
    if (kind === 'amount' && (!cents || cents.includes('.') || cents === '0')) {
      return setState({ error: new Error('Type the amount in whole cents at most, e.g. 15 or 15.50.') });
    }
    const input: NewCoupon = {
      name: name.trim(),
      duration,
      ...(kind === 'percent' ? { percentOff: Number(value) } : { amountOff: Number(cents), currency }),
      ...(duration === 'repeating' ? { durationInMonths: Number(months) } : {}),
      ...(maxRedemptions.trim() ? { maxRedemptions: Number(maxRedemptions) } : {}),
      ...(redeemBy ? { redeemBy: `${redeemBy}T23:59:59.000Z` } : {}),
    };
    setState({ busy: true });
    try {
      onCreated(await catalogApi.createCoupon(input));
      setName('');
      setValue('');
      setMaxRedemptions('');
      setRedeemBy('');
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="New coupon">
      <div className="row">
        <label htmlFor="coupon-name">Name (shown on invoices)</label>
        <input id="coupon-name" value={name} maxLength={40} required onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="row">
        <label htmlFor="coupon-kind">Discount</label>
        <select id="coupon-kind" value={kind} onChange={(e) => setKind(e.target.value as 'percent' | 'amount')}>
          <option value="percent">Percent off</option>
          <option value="amount">Fixed amount off</option>
        </select>
        <label htmlFor="coupon-value">{kind === 'percent' ? 'Percent' : 'Amount'}</label>
        <input id="coupon-value" className="short" inputMode="decimal" required value={value} onChange={(e) => setValue(e.target.value)} placeholder={kind === 'percent' ? '25' : '15.00'} />
        {kind === 'amount' ? (
          <>
            <label htmlFor="coupon-currency">Currency</label>
            <input id="coupon-currency" className="short" maxLength={3} value={currency} onChange={(e) => setCurrency(e.target.value.toLowerCase())} />
          </>
        ) : null}
      </div>
      <div className="row">
        <label htmlFor="coupon-duration">Duration</label>
        <select id="coupon-duration" value={duration} onChange={(e) => setDuration(e.target.value as NewCoupon['duration'])}>
          <option value="once">Once (the next invoice)</option>
          <option value="forever">Forever</option>
          <option value="repeating">Several months</option>
        </select>
        {duration === 'repeating' ? (
          <>
            <label htmlFor="coupon-months">Months</label>
            <input id="coupon-months" className="short" type="number" min={1} max={120} value={months} onChange={(e) => setMonths(e.target.value)} />
          </>
        ) : null}
      </div>
      <div className="row">
        <label htmlFor="coupon-max">Redemption limit (optional)</label>
        <input id="coupon-max" className="short" type="number" min={1} value={maxRedemptions} onChange={(e) => setMaxRedemptions(e.target.value)} />
        <label htmlFor="coupon-redeem-by">Last day to apply it (optional, UTC)</label>
        <input id="coupon-redeem-by" type="date" value={redeemBy} onChange={(e) => setRedeemBy(e.target.value)} />
      </div>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      <button type="submit" className="button" disabled={state.busy}>
        Create coupon
      </button>
    </form>
  );
}
