/**
 * The job registry and scheduler. Jobs are declared up front (name, cron pattern, timeout, enabled) and run by
 * node-cron; every run holds a PostgreSQL advisory lock named after the job, so across replicas one run of a job
 * happens at a time, and runs never overlap in-process. A run that throws is logged; the next tick tries again.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { advisoryLockKey } from '../../models/advisory-locks';
import type { DatabaseHandle } from '../../models/database';
import { outsideAuditedChange } from '../audit/ambient-transaction';

/** A scheduled job. `pattern` is a node-cron expression with seconds (`*\/5 * * * * *` = every 5 s). */
export interface JobDefinition {
  name: string;
  pattern: string;
  /** A run still going after this many seconds is logged as overdue (it is not killed: it may be mid-send). */
  timeoutSeconds: number;
  enabled: boolean;
  /** Also run once as soon as the scheduler starts (work a new version brings, e.g. Stripe endpoints to update). */
  runAtStart?: boolean;
  run: () => Promise<unknown>;
}

/** The scheduler over a set of jobs. */
export interface Scheduler {
  start(): void;
  /** Stops the timers and waits for runs in progress to finish. */
  stop(): Promise<void>;
  /** Runs a job now (under its lock), e.g. from a test or an admin action. @returns false if another run held the lock. */
  runNow(name: string): Promise<boolean>;
  /**
   * Asks for a run of an enabled job `delayMs` milliseconds from now, between its cron ticks (the meter reporter
   * after a delivery crossed a threshold, so units reach Stripe in about that delay instead of up to a whole
   * interval). Nudges while one is pending are merged; a nudge landing during a run makes one more run follow it,
   * so work committed after the run began is not left for the next tick. Does nothing before `start()`, after
   * `stop()`, or for a disabled or unknown job. Never throws.
   */
  nudge(name: string, delayMs: number): void;
}

/** The advisory lock key of a job. */
export const jobLockKey = (name: string): number => advisoryLockKey(`job:${name}`);

/**
 * @throws Error when a pattern is not a valid cron expression or two jobs share a name.
 */
export function createScheduler(jobs: JobDefinition[], database: Pick<DatabaseHandle, 'tryWithAdvisoryLock'>, logger: Logger): Scheduler {
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`Job "${job.name}" is declared twice.`);
    names.add(job.name);
    if (!cron.validate(job.pattern)) throw new Error(`Job "${job.name}" has an invalid cron pattern: ${job.pattern}`);
  }
  const running = new Map<string, Promise<boolean>>();
  const tasks: ScheduledTask[] = [];
  let started = false;
  let stopped = false;
  /** Jobs with a nudge timer set, and jobs owed one more run once the current one ends. */
  const nudgeTimers = new Map<string, NodeJS.Timeout>();
  const rerunAfterCurrent = new Set<string>();

  const runJob = (job: JobDefinition): Promise<boolean> => {
    const current = running.get(job.name);
    if (current) return current.then(() => false);
    const started = Date.now();
    const overdue = setTimeout(() => logger.warn({ job: job.name, seconds: job.timeoutSeconds }, 'job run is overdue'), job.timeoutSeconds * 1000);
    overdue.unref();
    const run = database
      .tryWithAdvisoryLock(jobLockKey(job.name), () => outsideAuditedChange(job.run)) // a nudge from inside a change never joins it
      .then((result) => {
        if (result.acquired) logger.debug({ job: job.name, ms: Date.now() - started, result: result.value }, 'job ran');
        return result.acquired;
      })
      .catch((err) => {
        logger.error({ err, job: job.name }, 'job failed');
        return false;
      })
      .finally(() => {
        clearTimeout(overdue);
        running.delete(job.name);
      });
    running.set(job.name, run);
    void run.then(() => {
      if (rerunAfterCurrent.delete(job.name) && !stopped) void runJob(job);
    });
    return run;
  };

  return {
    start() {
      started = true;
      for (const job of jobs.filter((j) => j.enabled)) {
        const task = cron.createTask(job.pattern, () => (stopped ? undefined : runJob(job).then(() => undefined)), {
          name: job.name,
          noOverlap: true,
        });
        task.start();
        tasks.push(task);
        if (job.runAtStart) void runJob(job);
      }
    },
    async stop() {
      stopped = true;
      for (const timer of nudgeTimers.values()) clearTimeout(timer);
      nudgeTimers.clear();
      rerunAfterCurrent.clear();
      await Promise.all(tasks.map((t) => t.destroy()));
      tasks.length = 0;
      await Promise.all(running.values());
    },
    async runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) throw new Error(`No job named "${name}".`);
      return runJob(job);
    },
    nudge(name, delayMs) {
      const job = jobs.find((j) => j.name === name);
      if (!job || !job.enabled || !started || stopped || nudgeTimers.has(name)) return;
      const timer = setTimeout(() => {
        nudgeTimers.delete(name);
        if (stopped) return;
        if (running.has(name)) rerunAfterCurrent.add(name);
        else void runJob(job);
      }, delayMs);
      timer.unref();
      nudgeTimers.set(name, timer);
    },
  };
}
