/**
 * The lines printed under the figures table: where the CPU went per delivery (the wall when a target is missed),
 * the intake's diagnostics, and what held acknowledgements up at half load.
 */
import type { IntakeDiagnostics } from './phases/intake';
import type { LoadSummary } from './load';
import { int } from './report';

export function intakeLines(d: IntakeDiagnostics, app: LoadSummary): string[] {
  const c = d.cpuMsPerRequest;
  const lines = [
    `CPU per acknowledged delivery during the acknowledgement rounds: app ${c.app.toFixed(2)} ms` +
      (c.postgres !== null ? ` + PostgreSQL ${c.postgres.toFixed(2)} ms` : '') +
      ` (its processor's work included: it counted ${int(d.processedDuringRounds)} events in those rounds, in ${int(d.processorBatches)} batches: ${(d.processedDuringRounds / Math.max(1, d.processorBatches)).toFixed(1)} per batch), bare Express ${c.bare.toFixed(2)} ms per request.`,
    `Intake diagnostics (app, last round): event-loop delay p50 ${d.app.loopDelayP50Ms} ms, p99 ${d.app.loopDelayP99Ms} ms` +
      (d.app.poolBusyMean !== null ? `; pg pool: ${d.app.poolBusyMean} of 10 connections busy, ${d.app.poolWaitingMean} queries waiting for one (means)` : '') +
      (Number.isFinite(d.statementsPerDelivery) ? `; ${d.statementsPerDelivery.toFixed(1)} statements per delivery` : '') +
      `; group commit: ${int(Number(d.app.batchedDeliveries))} deliveries in ${int(Number(d.app.batches))} inserts of 2 or more` +
      ` (${d.app.batchFallbacks} retried one by one), the rest alone; ${int(app.sent)} requests.`,
  ];
  if (d.waits) {
    const states = Object.entries(d.waits.meanSessions)
      .slice(0, 5)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`Database sessions (mean per sample, pg_stat_activity, last round): ${states}.`);
  }
  if (d.profile) {
    lines.push(
      `App CPU profile (bench-results/app-intake.cpuprofile), self time: ${d.profile.selfByPackage.map((p) => `${p.where} ${p.share} %`).join(', ')}.`,
      `Inclusive: ${d.profile.inclusive.map((p) => `${p.frame} ${p.share} %`).join(', ')}.`,
    );
  }
  return lines;
}

/** CPU per delivery at the sustained rate: intake and processing together, per process. */
export function sustainedLine(s: { rate: number; deliveries: number; elapsedSeconds: number; cpu: Record<string, number | null> }, pg: boolean): string {
  const per = (key: string) => (((s.cpu[key] ?? Number.NaN) / 100) * s.elapsedSeconds * 1000) / Math.max(1, s.deliveries);
  return (
    `CPU per delivery at ${int(s.rate)} req/s sustained (acknowledged, processed and sent to the double): app ${per('app').toFixed(2)} ms` +
    (pg ? ` + PostgreSQL ${per('postgres').toFixed(2)} ms` : '') +
    `; the load generator ${per('loadgen').toFixed(2)} ms; the machine was ${s.cpu.machine ?? 'n/a'} % busy (of 200), ${s.cpu.other ?? 'n/a'} % of it other programs.`
  );
}

/** What held acknowledgements up at half load: the event loop, garbage collection. */
export function halfLoadLine(d: Record<string, number>): string {
  return (
    `Half load (app): event-loop delay p99 ${d.loopDelayP99Ms} ms, max ${d.loopDelayMaxMs} ms; ${int(d.gcPauses ?? 0)} GC pauses, ` +
    `${d.gcPausesOver10Ms} over 10 ms, longest ${d.gcLongestMs} ms.`
  );
}
