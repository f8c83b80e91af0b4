/**
 * A graduated price's tiers, editable in place: each tier's last unit ("up to") and its price per unit; the last
 * tier runs on ("and above"). Tiers are added, removed or replaced by a flat price only when the agency says so.
 */
import type { TierDraft } from './pricing-draft';
import { formatCents, majorToCents } from '../format';

/** The tiers in one line: "up to 100 at $0.02, then at $0.01". */
export function tiersSummary(tiers: TierDraft[], currency: string): string {
  return tiers
    .map((t, i) => {
      const price = formatCents(majorToCents(t.price) ?? '', currency);
      if (i === tiers.length - 1) return `${i === 0 ? 'all' : 'then'} at ${price}`;
      return `up to ${t.upTo} at ${price}`;
    })
    .join(', ');
}

export function TierEditor({
  metric,
  label,
  tiers,
  currency,
  onChange,
  onFlat,
}: {
  metric: string;
  label: string;
  tiers: TierDraft[];
  currency: string;
  onChange: (tiers: TierDraft[]) => void;
  onFlat: () => void;
}) {
  const set = (i: number, next: Partial<TierDraft>) => onChange(tiers.map((t, j) => (j === i ? { ...t, ...next } : t)));
  const addTier = () => {
    const last = tiers.at(-1)!;
    const before = tiers.length > 1 ? Number(tiers.at(-2)!.upTo) || 0 : 0;
    onChange([...tiers.slice(0, -1), { upTo: String(before + 100), price: last.price }, { ...last, upTo: '' }]);
  };
  const removeTier = (i: number) => {
    const next = tiers.filter((_, j) => j !== i);
    if (next.length) next[next.length - 1] = { ...next.at(-1)!, upTo: '' };
    onChange(next);
  };
  return (
    <div className="tiers">
      <span className="small block" data-testid={`tiers-${metric}`}>
        Graduated: {tiersSummary(tiers, currency)}
      </span>
      <ol className="tier-list">
        {tiers.map((t, i) => {
          const last = i === tiers.length - 1;
          return (
            <li key={i}>
              {last ? (
                <span className="small">{i === 0 ? 'All units' : 'Above'}</span>
              ) : (
                <input className="tiny" aria-label={`${label}: tier ${i + 1} up to`} inputMode="numeric" value={t.upTo} onChange={(e) => set(i, { upTo: e.target.value })} />
              )}
              <span className="small"> at </span>
              <input className="short" aria-label={`${label}: tier ${i + 1} price per unit`} inputMode="decimal" value={t.price} onChange={(e) => set(i, { price: e.target.value })} />
              {tiers.length > 1 ? (
                <button type="button" className="button secondary small" aria-label={`${label}: remove tier ${i + 1}`} onClick={() => removeTier(i)}>
                  Remove
                </button>
              ) : null}
            </li>
          );
        })}
      </ol>
      <span className="inline">
        <button type="button" className="button secondary small" onClick={addTier}>
          Add a tier
        </button>
        <button type="button" className="button secondary small" onClick={onFlat}>
          Replace the tiers with a flat price
        </button>
      </span>
    </div>
  );
}
