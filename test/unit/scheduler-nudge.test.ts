/**
 * Scheduler nudges (server/jobs/scheduler.ts): a run between cron ticks, merged while pending, repeated once when
 * it lands during a run, and nothing before start, after stop or for a disabled job. The lock is the in-process
 * one PGlite uses (always granted), so only the scheduler's own logic is under test.
 */
import pino from 'pino';
import { createScheduler, type JobDefinition } from '../../server/jobs/scheduler';
import { until } from '../support/until';

const lockFree = { tryWithAdvisoryLock: async <T>(_key: number, fn: () => Promise<T>) => ({ acquired: true as const, value: await fn() }) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A cron pattern that will not fire during a test (once a year). */
const RARELY = '0 0 0 1 1 *';

function job(overrides: Partial<JobDefinition> & { run: () => Promise<unknown> }): JobDefinition {
  return { name: 'reporter', pattern: RARELY, timeoutSeconds: 60, enabled: true, ...overrides };
}

describe('scheduler nudge', () => {
  it('when nudged three times within the delay, then the job runs once, after the delay', async () => {
    const runs: number[] = [];
    const started = Date.now();
    const scheduler = createScheduler([job({ run: async () => void runs.push(Date.now() - started) })], lockFree, pino({ level: 'silent' }));
    scheduler.start();
    scheduler.nudge('reporter', 50);
    scheduler.nudge('reporter', 50);
    scheduler.nudge('reporter', 50);
    expect(runs).toEqual([]); // not before the delay
    await until(() => runs.length > 0);
    await sleep(100); // merged nudges would have run by now
    expect(runs).toHaveLength(1);
    expect(runs[0]).toBeGreaterThanOrEqual(45);
    await scheduler.stop();
  });

  it('when a nudge lands during a run, then exactly one more run follows that run', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const scheduler = createScheduler(
      [job({ run: () => new Promise<void>((resolve) => { runs += 1; release = resolve; }) })],
      lockFree,
      pino({ level: 'silent' }),
    );
    scheduler.start();
    const first = scheduler.runNow('reporter');
    await until(() => runs === 1);
    scheduler.nudge('reporter', 1);
    await sleep(20);
    scheduler.nudge('reporter', 1); // merged into the one owed
    await sleep(20);
    expect(runs).toBe(1); // the run in progress is not doubled
    release();
    await first;
    await until(() => runs === 2);
    expect(runs).toBe(2);
    release();
    await sleep(50);
    expect(runs).toBe(2);
    await scheduler.stop();
  });

  it('when not started, stopped, disabled or unknown, then a nudge runs nothing and does not throw', async () => {
    let runs = 0;
    const run = async () => void (runs += 1);
    const scheduler = createScheduler([job({ run }), job({ name: 'off', enabled: false, run })], lockFree, pino({ level: 'silent' }));
    scheduler.nudge('reporter', 1); // before start
    scheduler.start();
    scheduler.nudge('off', 1);
    scheduler.nudge('nobody', 1);
    scheduler.nudge('reporter', 30);
    await scheduler.stop(); // cancels the pending nudge
    scheduler.nudge('reporter', 1);
    await sleep(80);
    expect(runs).toBe(0);
  });
});
