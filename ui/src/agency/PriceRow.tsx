/**
 * One metric of the pricing grid: on/off, every N = 1 unit, which activity counts, the price per unit (flat, or
 * graduated tiers edited in place) with the price per item beside it, HighLevel's base cost per item (prefilled with
 * its list price where HighLevel publishes one, marked and editable) and the margin, margin % and markup × per item.
 */
import type Decimal from 'decimal.js';
import type { PricingRow } from '../api';
import { ErrorNotice } from '../components/States';
import { formatCents, metricLabel } from '../format';
import { draftOf, economics, itemOf, listPriceOf, type Draft } from './pricing-draft';
import { TierEditor } from './TierEditor';

export function PriceRow({
  row,
  draft: d,
  currency,
  unsaved,
  error,
  onChange,
}: {
  row: PricingRow;
  draft: Draft;
  currency: string;
  unsaved: boolean;
  error: unknown;
  onChange: (next: Partial<Draft>) => void;
}) {
  const label = metricLabel(row.metric);
  const item = itemOf(label);
  const savedTiers = row.priceTerms?.tiers ?? null;
  const list = listPriceOf(row.metric, currency);
  const fromList = row.baseCostDecimal === null && list?.costCents != null && d.cost.trim() === draftOf(row, currency).cost;
  const e = economics(d);
  const money = (cents: Decimal | null) => (cents === null ? '—' : formatCents(cents.toDecimalPlaces(6).toString(), currency));
  const warnings = [
    unsaved ? 'Unsaved' : null,
    !row.stripePriceId ? 'Not priced' : null,
    e.margin !== null && e.margin.isNegative() ? 'Below cost' : null,
    row.doubleBillingWarning ? 'May be billed twice' : null,
  ].filter((w): w is string => w !== null);
  return (
    <>
      <tr className={`${row.stripePriceId ? 'priced' : 'unpriced'}${unsaved ? ' unsaved' : ''}`} data-metric={row.metric}>
        <th scope="row">
          {label}
          {warnings.length ? (
            <span className="badges block">
              {warnings.map((w) => (
                <span key={w} className={`badge ${w === 'Unsaved' ? 'info' : 'warn'}`}>
                  {w}
                </span>
              ))}
            </span>
          ) : null}
          {row.doubleBillingWarning ? <span className="block small">{row.doubleBillingWarning}</span> : null}
        </th>
        <td>
          <input type="checkbox" aria-label={`${label}: billed`} checked={d.enabled} onChange={(ev) => onChange({ enabled: ev.target.checked })} />
        </td>
        <td>
          <input className="tiny" aria-label={`${label}: every N = 1 unit`} inputMode="decimal" value={d.threshold} onChange={(ev) => onChange({ threshold: ev.target.value })} />
        </td>
        <td>
          <select aria-label={`${label}: which activity counts`} value={d.direction} onChange={(ev) => onChange({ direction: ev.target.value as PricingRow['direction'] })}>
            <option value="outbound">Outbound</option>
            <option value="inbound">Inbound</option>
            <option value="both">Both</option>
          </select>
        </td>
        <td>
          {d.tiers ? (
            <TierEditor
              metric={row.metric}
              label={label}
              tiers={d.tiers}
              currency={currency}
              onChange={(tiers) => onChange({ tiers })}
              onFlat={() => onChange({ tiers: null, price: d.tiers!.at(-1)?.price ?? '' })}
            />
          ) : (
            <>
              <input
                className="short"
                aria-label={`${label}: retail price per unit`}
                inputMode="decimal"
                value={d.price}
                placeholder="No price"
                // Typing a first price switches the metric on (an unpriced metric starts off).
                onChange={(ev) => onChange({ price: ev.target.value, ...(!row.stripePriceId && d.price === '' && !d.enabled ? { enabled: true } : {}) })}
              />
              {savedTiers ? (
                <span className="block small negative">
                  Saving replaces the graduated tiers with this flat price.{' '}
                  <button type="button" className="link-button" onClick={() => onChange({ tiers: draftOf(row, currency).tiers })}>
                    Keep the tiers
                  </button>
                </span>
              ) : null}
            </>
          )}
          {e.perItem !== null && Number(d.threshold) !== 1 ? (
            <span className="block small muted" data-testid={`per-item-${row.metric}`}>
              = {money(e.perItem)} per {item}
            </span>
          ) : null}
        </td>
        <td>
          <input className="short cost" aria-label={`${label}: base cost per ${item}`} inputMode="decimal" value={d.cost} placeholder="Not set" onChange={(ev) => onChange({ cost: ev.target.value })} />
          {fromList ? (
            <span className="block small muted" data-testid={`list-price-${row.metric}`} title={`HighLevel’s list price, ${list!.basis}. Edit it if your cost differs.`}>
              HighLevel list price (
              <a href={list!.source!} target="_blank" rel="noreferrer">
                source
              </a>
              ), editable
            </span>
          ) : null}
          {list && list.costCents === null && d.cost.trim() === '' ? (
            <span className="block small muted" data-testid={`list-price-${row.metric}`} title={list.basis}>
              No HighLevel list price
            </span>
          ) : null}
        </td>
        <td className="num" data-testid={`margin-${row.metric}`}>
          {e.margin !== null ? (
            <span className={e.margin.isNegative() ? 'negative' : undefined}>
              {money(e.margin)}
              {e.percent !== null ? <span className="block small">{e.percent.toDecimalPlaces(1).toString()}%</span> : null}
              {e.markup !== null ? <span className="block small">{e.markup.toDecimalPlaces(2).toString()}× cost</span> : null}
            </span>
          ) : (
            '—'
          )}
        </td>
      </tr>
      {error ? (
        <tr className="row-status">
          <td colSpan={7}>
            <ErrorNotice error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
