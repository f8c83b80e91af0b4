/** The page's types for reconciliation runs and drift alerts (see api-types.ts). */
/** Pairs (Stripe customer × meter) whose drift stays, and the units involved (GET /api/reconciliation/runs). */
export interface DriftAlert {
  pairs: number;
  units: number;
  lastRunAt: string | null;
}

/** A reconciliation run (server/reconciliation/routes.ts). Units are whole meter units; times ISO 8601 UTC. */
export interface ReconciliationRun {
  id: number;
  locationId: string | null;
  trigger: 'scheduled' | 'on_demand' | 'follow_up';
  status: 'running' | 'completed' | 'failed';
  settledBefore: string;
  windowsFrom: string;
  pairsChecked: number;
  pairsWithDrift: number;
  pairsFailed: number;
  windowsChecked: number;
  windowsSkipped: number;
  missingUnits: number;
  excessUnits: number;
  correctedUnits: number;
  leftForPersonUnits: number;
  unconfirmedSettled: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** What a run did in one window: confirm, resend, correct, cancel, flag or deferred. */
export interface ReconciliationAction {
  kind: 'confirm' | 'resend' | 'correct' | 'cancel' | 'flag' | 'deferred';
  units: number;
  batchId?: number;
  identifier?: string;
  message?: string;
}

/** A run with its per-(customer, meter) results. */
export interface ReconciliationRunDetail extends ReconciliationRun {
  pairs: Array<{
    locationId: string | null;
    stripeCustomerId: string;
    meterEventName: string;
    stripeMeterId: string | null;
    status: 'ok' | 'corrected' | 'flagged' | 'error';
    windowsChecked: number;
    windowsSkipped: number;
    ourUnits: number;
    stripeUnits: number;
    missingUnits: number;
    excessUnits: number;
    correctedUnits: number;
    leftForPersonUnits: number;
    message: string | null;
    windows: Array<{ start: number; end: number; ours: number | null; stripe: number | null; skipped?: string; actions: ReconciliationAction[] }>;
  }>;
}

