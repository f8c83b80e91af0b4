/**
 * `npx tsx test/bench/sub-account-amounts.ts`: how long this period's running estimate takes for an agency with
 * 500 billed sub-accounts (server/reporting/period-charges.ts) — one by one (`currentPeriodCharges` per
 * sub-account, what a sort by amount would cost without the batched form), all at once (`currentPeriodChargesOf`),
 * and `GET /api/sub-accounts`' read model (`subAccountWorkQueue`) by name (a page of 50) and by amount (all 500
 * priced, then a page of 50). Each figure is the median of ROUNDS runs, in milliseconds.
 *
 * Seeded straight into a fresh database (TEST_DATABASE_URL's server, else in-memory PGlite): SMS at 2¢, WhatsApp
 * graduated, call minutes priced per direction (a pair, so the per-meter query runs), a 49.00 flat fee, and for each
 * sub-account a few meter reports and usage records this month. A benchmark, not a test: nothing fails on a figure.
 * `--json`: one line `BENCH_JSON {…}` with the figures instead of the table (what `npm run bench` reads,
 * test/bench/phases/owner-views.ts).
 */
import { sql } from 'drizzle-orm';
import { subAccountWorkQueue } from '../../server/billing-setup/sub-account-list';
import { currentPeriodCharges, currentPeriodChargesOf } from '../../server/reporting/period-charges';
import { openTestDatabase } from '../support/test-database';

const COMPANY = 'companyBenchAmounts1';
const COUNT = Number(process.env.BENCH_SUB_ACCOUNTS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function seed(db: Awaited<ReturnType<typeof openTestDatabase>>['db']): Promise<string[]> {
  await db.execute(sql`insert into agencies (company_id, name, flat_fee_amount) values (${COMPANY}, 'Bench agency', 4900)`);
  const ids = Array.from({ length: COUNT }, (_, i) => `locBenchAmount${String(i).padStart(4, '0')}`);
  await db.execute(sql`
    insert into sub_accounts (location_id, company_id, name, stripe_customer_id, stripe_subscription_id)
    select 'locBenchAmount' || lpad(i::text, 4, '0'), ${COMPANY}, 'Client ' || lpad(i::text, 3, '0'), 'cus_bench' || i, 'sub_bench' || i
    from generate_series(0, ${COUNT - 1}) i`);
  const rule = (metric: string, direction: string, event: string, terms: object) =>
    db.execute(sql`insert into rebilling_rules (company_id, metric, threshold, direction, meter_event_name, stripe_price_id, price_terms)
                   values (${COMPANY}, ${metric}, 1, ${direction}, ${event}, ${`price_${event}`}, ${JSON.stringify(terms)}::jsonb)`);
  await rule('sms', 'both', 'mb_sms', { currency: 'usd', interval: 'month', unitAmountDecimal: '2' });
  await rule('whatsapp', 'both', 'mb_whatsapp', { currency: 'usd', interval: 'month', tiers: [{ upTo: 100, unitAmountDecimal: '2' }, { upTo: 'inf', unitAmountDecimal: '1' }] });
  await rule('call_minutes', 'inbound', 'mb_call_in', { currency: 'usd', interval: 'month', unitAmountDecimal: '3' });
  await rule('call_minutes', 'outbound', 'mb_call_out', { currency: 'usd', interval: 'month', unitAmountDecimal: '5' });
  const at = new Date(Math.max(Date.now() - 60_000, Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1))).toISOString();
  await db.execute(sql`
    insert into meter_reports (company_id, location_id, metric, stripe_customer_id, meter_event_name, units, crossed_at, status)
    select ${COMPANY}, s.location_id, m.metric, s.stripe_customer_id, m.event, 1 + (hashtext(s.location_id || m.event) & 255), ${at}::timestamptz, 'sent'
    from sub_accounts s cross join (values ('sms', 'mb_sms'), ('whatsapp', 'mb_whatsapp'), ('call_minutes', 'mb_call_in'), ('call_minutes', 'mb_call_out')) m(metric, event)
    where s.company_id = ${COMPANY}`);
  await db.execute(sql`
    insert into activity_events (webhook_id, event_type, status, source, company_id, location_id, payload)
    select 'bench-' || s.location_id, 'usage', 'processed', 'usage_api', ${COMPANY}, s.location_id, '{}'::jsonb
    from sub_accounts s where s.company_id = ${COMPANY}`);
  await db.execute(sql`
    insert into usage_records (activity_event_id, location_id, metric, quantity, unit, occurred_at, source_type)
    select e.id, e.location_id, m.metric, 1 + (hashtext(e.location_id || m.metric) & 255), 'unit', ${at}::timestamptz, 'usage_api'
    from activity_events e cross join (values ('sms'), ('whatsapp'), ('call_minutes')) m(metric) where e.company_id = ${COMPANY}`);
  await db.execute(sql`analyze`);
  return ids;
}

/** Prints a table row unless the figures are asked for as JSON (`--json`, what `npm run bench` reads). */
const JSON_OUT = process.argv.includes('--json');
const row = (line: string) => {
  if (!JSON_OUT) console.log(line);
};

async function median(label: string, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: prepared plans, caches
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  row(`| ${label} | ${ms.toFixed(1)} |`);
  return ms;
}

/** The figures, milliseconds (medians): one by one, batched, the list by name and by amount. */
export interface AmountFigures {
  subAccounts: number;
  driver: string;
  oneByOneMs: number;
  batchedMs: number;
  byNameMs: number;
  byAmountMs: number;
}

async function main(): Promise<void> {
  const database = await openTestDatabase();
  try {
    const ids = await seed(database.db);
    const db = database.db;
    row(`${COUNT} billed sub-accounts on ${database.driver}, median of ${ROUNDS} runs\n\n| what | ms |\n|---|---|`);
    const one = await median(`${COUNT} × currentPeriodCharges, one by one`, async () => {
      for (const id of ids) await currentPeriodCharges(db, COMPANY, id);
    });
    const all = await median(`currentPeriodChargesOf, ${COUNT} at once`, () => currentPeriodChargesOf(db, COMPANY, ids));
    const byName = await median('GET /api/sub-accounts read model, sort=name, page of 50', () => subAccountWorkQueue(db, COMPANY, { sort: 'name', page: 1, pageSize: 50 }));
    const byAmount = await median(`GET /api/sub-accounts read model, sort=amount, page of 50 of ${COUNT}`, () => subAccountWorkQueue(db, COMPANY, { sort: 'amount', page: 1, pageSize: 50 }));
    // The same estimate either way: one rule, two entry points.
    const batched = await currentPeriodChargesOf(db, COMPANY, ids.slice(0, 20));
    for (const id of ids.slice(0, 20)) {
      if (JSON.stringify(batched.get(id)) !== JSON.stringify(await currentPeriodCharges(db, COMPANY, id))) throw new Error(`estimates differ for ${id}`);
    }
    const figures: AmountFigures = { subAccounts: COUNT, driver: database.driver, oneByOneMs: one, batchedMs: all, byNameMs: byName, byAmountMs: byAmount };
    if (JSON_OUT) console.log(`BENCH_JSON ${JSON.stringify(figures)}`);
    else console.log(`\nbatched is ${(one / all).toFixed(0)}× faster than one by one`);
  } finally {
    await database.close();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
