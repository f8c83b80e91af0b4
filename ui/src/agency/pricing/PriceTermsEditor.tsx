/**
 * A metered price's terms as the agency types them: currency, billing interval, and either one price per unit or
 * graduated tiers ("up to N units at A, then at B"; Stripe's graduated pricing,
 * docs.stripe.com/products-prices/pricing-models#graduated-pricing). Amounts are typed in the currency's major unit
 * and sent in cents (decimal strings). Used for a sub-account's own price and the inbound/outbound rows.
 */
import { useState } from 'react';
import type { PriceTermsInput } from '../../api-catalog';
import { majorToCents } from '../../format';

/** What is typed: strings as typed; `tiers` rows up to the last, open-ended one. */
export interface TermsDraft {
  currency: string;
  interval: NonNullable<PriceTermsInput['interval']>;
  kind: 'unit' | 'tiers';
  unit: string;
  tiers: Array<{ upTo: string; price: string }>;
}

/** A fresh draft in the agency's currency and interval. */
export const emptyTerms = (currency: string, interval: TermsDraft['interval'] = 'month'): TermsDraft => ({
  currency,
  interval,
  kind: 'unit',
  unit: '',
  tiers: [
    { upTo: '', price: '0' },
    { upTo: '', price: '' },
  ],
});

/** Whether anything priced was typed (a unit price, or tiers). */
export const hasPrice = (d: TermsDraft) => (d.kind === 'unit' ? d.unit.trim() !== '' : d.tiers.some((t) => t.price.trim() !== ''));

/**
 * The terms to send, in cents. @throws Error naming what to fix (a missing or malformed amount, tier limits not
 * increasing whole numbers, a currency that is not three letters).
 */
export function termsOf(d: TermsDraft): PriceTermsInput {
  const currency = d.currency.trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw new Error('The currency is a three-letter code, like USD or EUR.');
  if (d.kind === 'unit') {
    const cents = majorToCents(d.unit);
    if (cents === null) throw new Error('Type the price per unit, e.g. 0.03.');
    return { currency, interval: d.interval, unitAmountDecimal: cents };
  }
  let previous = 0;
  const tiers = d.tiers.map((t, i) => {
    const last = i === d.tiers.length - 1;
    const cents = majorToCents(t.price);
    if (cents === null) throw new Error(`Tier ${i + 1}: type its price per unit, e.g. 0.02 (0 for free).`);
    if (last) return { upTo: 'inf' as const, unitAmountDecimal: cents };
    const upTo = Number(t.upTo);
    if (!Number.isInteger(upTo) || upTo <= previous) throw new Error(`Tier ${i + 1}: “up to” is a whole number of units above the tier before.`);
    previous = upTo;
    return { upTo, unitAmountDecimal: cents };
  });
  return { currency, interval: d.interval, tiers };
}

/**
 * The editor: a price per unit in the row, and a disclosure for currency, interval and tiers. `label` names the row;
 * `ownPrice` says it is a sub-account's own price (the unit field's name says so).
 */
export function PriceTermsEditor({
  label,
  draft,
  onChange,
  placeholder,
  ownPrice = false,
}: { label: string; draft: TermsDraft; onChange: (d: TermsDraft) => void; placeholder?: string; ownPrice?: boolean }) {
  const [open, setOpen] = useState(false);
  const set = (next: Partial<TermsDraft>) => onChange({ ...draft, ...next });
  const setTier = (i: number, next: Partial<TermsDraft['tiers'][number]>) => set({ tiers: draft.tiers.map((t, j) => (j === i ? { ...t, ...next } : t)) });
  return (
    <div className="price-terms">
      {draft.kind === 'unit' ? (
        <input
          className="tiny"
          aria-label={
            ownPrice
              ? `${label}: own price per unit (${draft.currency.toUpperCase()}) for this sub-account`
              : `${label}: price per unit (${draft.currency.toUpperCase()})`
          }
          inputMode="decimal"
          placeholder={placeholder}
          value={draft.unit}
          onChange={(e) => set({ unit: e.target.value })}
        />
      ) : (
        <span className="small">Graduated, {draft.tiers.length} tiers</span>
      )}
      <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary aria-label={`${label}: currency, interval and tiers`}>
          {draft.currency.toUpperCase()} / {draft.interval}
          {draft.kind === 'tiers' ? ', tiers' : ''}
        </summary>
        <div className="stack small">
          <label>
            Currency{' '}
            <input className="tiny" aria-label={`${label}: currency`} maxLength={3} value={draft.currency.toUpperCase()} onChange={(e) => set({ currency: e.target.value.toLowerCase() })} />
          </label>
          <label>
            Billed every{' '}
            <select aria-label={`${label}: billing interval`} value={draft.interval} onChange={(e) => set({ interval: e.target.value as TermsDraft['interval'] })}>
              <option value="month">month</option>
              <option value="year">year</option>
              <option value="week">week</option>
              <option value="day">day</option>
            </select>
          </label>
          <label className="checkbox">
            <input type="checkbox" aria-label={`${label}: graduated tiers`} checked={draft.kind === 'tiers'} onChange={(e) => set({ kind: e.target.checked ? 'tiers' : 'unit' })} />
            Graduated tiers
          </label>
          {draft.kind === 'tiers' ? (
            <ol className="tiers">
              {draft.tiers.map((t, i) => {
                const last = i === draft.tiers.length - 1;
                return (
                  <li key={i}>
                    {last ? (
                      <span>{i === 0 ? 'All units' : 'Then'}</span>
                    ) : (
                      <label>
                        Up to{' '}
                        <input className="tiny" type="number" min={1} aria-label={`${label}: tier ${i + 1} up to`} value={t.upTo} onChange={(e) => setTier(i, { upTo: e.target.value })} />
                      </label>
                    )}{' '}
                    <label>
                      at{' '}
                      <input className="tiny" inputMode="decimal" aria-label={`${label}: tier ${i + 1} price per unit`} value={t.price} onChange={(e) => setTier(i, { price: e.target.value })} />
                    </label>
                  </li>
                );
              })}
              <li>
                <button type="button" className="button small secondary" onClick={() => set({ tiers: [...draft.tiers.slice(0, -1), { upTo: '', price: '' }, draft.tiers.at(-1)!] })}>
                  Add a tier
                </button>
              </li>
            </ol>
          ) : null}
        </div>
      </details>
    </div>
  );
}
