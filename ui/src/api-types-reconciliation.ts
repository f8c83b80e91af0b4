/**
 * The page's types for reconciliation runs and drift alerts, inferred from the server's zod schemas
 * (server/reconciliation/schemas.ts; see api-types.ts). Units are whole meter units; times ISO 8601 UTC.
 */
import type { z } from 'zod';
import type { driftAlertSchema, reconciliationRun, reconciliationRunDetail, runsResponse, windowAction } from '../../server/reconciliation/schemas';

/** Pairs (Stripe customer × meter) whose drift stays, and the units involved. */
export type DriftAlert = z.infer<typeof driftAlertSchema>;
/** A reconciliation run's summary. */
export type ReconciliationRun = z.infer<typeof reconciliationRun>;
/** What a run did in one window: confirm, resend, correct, cancel, flag or deferred. */
export type ReconciliationAction = z.infer<typeof windowAction>;
/** A run with its per-(customer, meter) results. */
export type ReconciliationRunDetail = z.infer<typeof reconciliationRunDetail>;
/** `GET …/reconciliation/runs`: the runs, newest first, and the drift that stays. */
export type ReconciliationRuns = z.infer<typeof runsResponse>;
