/**
 * What to do about one settled window of one (customer, meter) pair, given what we sent and what Stripe counted.
 * Pure: the use case (reconciliation.ts) gathers the facts and carries out the actions.
 */

/** A batch reconciliation may act on. `value` in meter units. */
export interface BatchRef {
  batchId: number;
  identifier: string;
  value: number;
}

/** The facts of one window. Units are whole meter units. */
export interface WindowFacts {
  /** Units of batches in a sent status that carry usage (corrections excluded: they owe nothing themselves). */
  ours: number;
  /** Stripe's aggregated value for the window. */
  stripe: number;
  /** Batches whose delivery is unknown (UNCONFIRMED_STATUSES), oldest first. */
  unconfirmed: BatchRef[];
  /** Sent batches Stripe may hold twice and can still cancel (windows.ts `possiblyDoubled`), newest first. */
  cancellable: BatchRef[];
}

/** One action: settle an unconfirmed batch as sent, resend it with a new identifier, send a corrective event for
 * missing units, cancel a doubled event by identifier, or flag an excess nobody can attribute. */
export type WindowAction =
  | { kind: 'confirm'; batch: BatchRef }
  | { kind: 'resend'; batch: BatchRef }
  | { kind: 'correct'; units: number }
  | { kind: 'cancel'; batch: BatchRef }
  | { kind: 'flag'; units: number };

/** The decision: `missing` units Stripe lacks, `excess` units it has beyond ours (both ≥ 0), and the actions. */
export interface WindowDecision {
  missing: number;
  excess: number;
  actions: WindowAction[];
}

/**
 * Unconfirmed batches first: those whose values add up exactly to Stripe's surplus over what we know was sent are
 * confirmed (else, oldest first, each while the surplus covers it), the others resent. Then a shortfall becomes one
 * corrective event; a surplus is cancelled among the known possible doubles (a set adding up to it exactly, else each
 * that fits in what is left, in the order given), and the rest is flagged for a person. Stripe only reports totals,
 * so which batch is which is inferred from the sums: the total is what is made right.
 */
export function decideWindow(facts: WindowFacts): WindowDecision {
  const actions: WindowAction[] = [];
  let surplus = facts.stripe - facts.ours;
  let missing = 0;
  const counted = pick(facts.unconfirmed, surplus);
  for (const batch of facts.unconfirmed) {
    if (counted.has(batch)) {
      actions.push({ kind: 'confirm', batch });
      surplus -= batch.value;
    } else {
      actions.push({ kind: 'resend', batch });
      missing += batch.value;
    }
  }
  if (surplus < 0) {
    actions.push({ kind: 'correct', units: -surplus });
    missing += -surplus;
    return { missing, excess: 0, actions };
  }
  const excess = surplus;
  const doubles = pick(facts.cancellable, surplus);
  for (const batch of facts.cancellable) {
    if (!doubles.has(batch)) continue;
    actions.push({ kind: 'cancel', batch });
    surplus -= batch.value;
  }
  if (surplus > 0) actions.push({ kind: 'flag', units: surplus });
  return { missing, excess, actions };
}

/** Largest target searched for an exact sum; above it (or with more batches than SUBSET_MAX_BATCHES), greedy only. */
const SUBSET_MAX_TARGET = 100_000;
const SUBSET_MAX_BATCHES = 64;

/**
 * Batches whose values add up to `target` exactly (subset sum by dynamic programming over reachable sums), else,
 * in order, each that still fits under what is left.
 */
function pick(batches: BatchRef[], target: number): Set<BatchRef> {
  if (target <= 0 || batches.length === 0) return new Set();
  if (target <= SUBSET_MAX_TARGET && batches.length <= SUBSET_MAX_BATCHES) {
    // reach[sum] = index of the batch that first reached it, and the sum before it.
    const reach = new Map<number, { index: number; from: number }>([[0, { index: -1, from: -1 }]]);
    batches.forEach((batch, index) => {
      for (const sum of [...reach.keys()]) {
        const next = sum + batch.value;
        if (next <= target && !reach.has(next)) reach.set(next, { index, from: sum });
      }
    });
    if (reach.has(target)) {
      const chosen = new Set<BatchRef>();
      for (let sum = target; sum > 0; sum = reach.get(sum)!.from) chosen.add(batches[reach.get(sum)!.index]!);
      return chosen;
    }
  }
  const chosen = new Set<BatchRef>();
  let left = target;
  for (const batch of batches) {
    if (batch.value <= left) {
      chosen.add(batch);
      left -= batch.value;
    }
  }
  return chosen;
}
