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
 * Unconfirmed batches first, oldest first: each is confirmed while Stripe's surplus over what we know was sent covers
 * it, and resent otherwise. Then a shortfall becomes one corrective event; a surplus is cancelled batch by batch among
 * the known possible doubles (each only if it fits in what is left), and the rest is flagged for a person.
 */
export function decideWindow(facts: WindowFacts): WindowDecision {
  const actions: WindowAction[] = [];
  let surplus = facts.stripe - facts.ours;
  let missing = 0;
  for (const batch of facts.unconfirmed) {
    if (surplus >= batch.value) {
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
  for (const batch of facts.cancellable) {
    if (surplus <= 0) break;
    if (batch.value <= surplus) {
      actions.push({ kind: 'cancel', batch });
      surplus -= batch.value;
    }
  }
  if (surplus > 0) actions.push({ kind: 'flag', units: surplus });
  return { missing, excess, actions };
}
