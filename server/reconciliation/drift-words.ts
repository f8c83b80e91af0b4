/**
 * A reconciliation run's drift in words, one metric at a time: the one wording of the Reconciliation section
 * (ui/src/agency/Reconciliation.tsx) and of the "Reconciliation found drift" alert (server/alerts/operations-sweep.ts).
 * Units of different metrics are never added up: a run's drift is read per metric (runs-repository.ts `MetricDrift`).
 * Plain code without imports, so the page's bundle can include it.
 */

/** One metric's drift units in a run (whole meter units of that metric). */
export interface DriftUnits {
  missingUnits: number;
  excessUnits: number;
  correctedUnits: number;
  leftForPersonUnits: number;
}

const thousands = new Intl.NumberFormat('en-US');

/**
 * "SMS messages: 3 missing, 4 in excess, 3 repaired, 4 left for you" — the parts that are not zero, after the metric's
 * label (the caller's: built-in or the agency's own).
 */
export function metricDriftWords(label: string, d: DriftUnits): string {
  const parts: [number, string][] = [
    [d.missingUnits, 'missing'],
    [d.excessUnits, 'in excess'],
    [d.correctedUnits, 'repaired'],
    [d.leftForPersonUnits, 'left for you'],
  ];
  return `${label}: ${parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${thousands.format(n)} ${what}`)
    .join(', ')}`;
}

/**
 * A run in one line: "Reconciled 2 customer × meter pairs. SMS messages: 3 missing, 3 repaired. Call minutes: 2 in
 * excess, 2 left for you." — or "…: no drift." when no metric has any. `drift` with each metric's label.
 */
export function runDriftWords(pairsChecked: number, drift: ReadonlyArray<DriftUnits & { label: string }>): string {
  const pairs = `Reconciled ${thousands.format(pairsChecked)} customer × meter pair${pairsChecked === 1 ? '' : 's'}`;
  return drift.length === 0 ? `${pairs}: no drift.` : `${pairs}. ${drift.map((d) => `${metricDriftWords(d.label, d)}.`).join(' ')}`;
}
