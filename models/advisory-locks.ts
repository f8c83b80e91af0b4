/**
 * Every PostgreSQL advisory lock Meterbridge takes, in one registry, so no two capabilities share a key by accident
 * and TypeScript tools find every user of each. Two kinds:
 * - two-key transaction locks `(namespace, hashtext(text))`, the namespaces below: released at commit or rollback;
 * - one-key named locks (`advisoryLockKey(name)`, a hash of `meterbridge:<name>`), held by a session around a job
 *   run or a token refresh: names `job:<job name>` (server/jobs/scheduler.ts) and `highlevel-token:<installation>`
 *   (server/highlevel/installation-tokens.ts).
 * Lock order, the same for every writer so none waits on another in a cycle: message locks (hash order), then the
 * agency billing set-up lock (company order), then counter rows ((sub-account, metric) order).
 */
export { advisoryLockKey } from './database';

/**
 * "The billing set-up of one agency" (rules, prices, customers), keyed by hashtext(company_id). Counting usage takes
 * it shared; a rule or customer change takes it exclusive (server/tenancy/tenancy-lock.ts).
 */
export const BILLING_SETUP_LOCK = 7_310_001;

/**
 * "One HighLevel message of one sub-account", keyed by hashtext('<location id>:<message id or message key>'). The
 * inbox processor and a backfill page both take it before looking for the message, so one of them always sees the
 * other's commit (server/metering/backfilled-usage.ts).
 */
export const MESSAGE_LOCK = 7_310_002;
