/**
 * 7. Stripe calls per flush (kept from the first benchmark): a fresh app whose reporter is not scheduled, on a fresh
 * database and a fresh Stripe double; `stripeEvents` deliveries over `stripeCustomers` customers × 2 meters, counted
 * by the inbox processor; then ONE reporter pass (`reporter.tick()`): its calls and units at the stub against the
 * units computed from what was sent; then passes until the outbox is empty.
 */
import { measureCpu } from '../cpu';
import { createBenchDatabase, type BenchDatabase } from '../database';
import { deliveryStream, referenceUnits, STRIPE_MIX, stripeTenancy } from '../deliveries';
import { forkChild, type Child } from '../ipc';
import { blast, withoutLatencies } from '../load';
import { int, ms, type Figure } from '../report';
import type { StubSnapshot } from '../stripe-stub-server';
import { sleep, waitForEmptyInbox, type Bench } from './common';

export type StartApp = (name: string, env: NodeJS.ProcessEnv, logFile: string) => Promise<Child>;

export async function stripeCallsPhase(
  bench: Bench,
  adminUrl: string | undefined,
  baseEnv: NodeJS.ProcessEnv,
  logFile: string,
  cleanups: Array<() => Promise<unknown>>,
  startApp: StartApp,
): Promise<void> {
  const stripe = await measureStripeCalls(bench, adminUrl, baseEnv, logFile, cleanups, startApp);
  bench.raw.stripe = stripe;
  const cut = stripe.cutByBudget ? ` (of ${int(bench.plan.stripeEvents)}: cut by the time budget, intake too slow)` : '';
  const figures: Figure[] = [
    {
      n: 7,
      name: `Stripe meter-event calls in one reporter flush after ${int(stripe.events)} events${cut} over ${stripe.pairs} (customer, meter) pairs${stripe.ackedNotStored ? ` — ${int(stripe.ackedNotStored)} ACKNOWLEDGED BUT NOT STORED` : ''}`,
      measured: `${int(stripe.firstFlush.calls)} calls (${stripe.firstFlush.pairsWithUnits} pairs with new units)`,
      target: '≤ pairs with new units',
      met: stripe.firstFlush.calls <= stripe.firstFlush.pairsWithUnits,
    },
    {
      n: 7,
      name: 'Units that flush carried vs the reference computed from what was sent',
      measured:
        `${int(stripe.firstFlush.units)} of ${int(stripe.referenceUnits)} units${stripe.firstFlush.equal ? ', every pair equal' : ''} (flush took ${ms(stripe.firstFlush.ms)})` +
        (stripe.cutByBudget && stripe.firstFlush.equal ? ` — with ${int(stripe.events)} events, not the ${int(bench.plan.stripeEvents)} the figure is defined for` : ''),
      target: 'equal',
      // Equal after a budget cut proves less than the figure asks (fewer events, fewer reports): not a pass.
      met: stripe.firstFlush.equal ? (stripe.cutByBudget ? 'n/a' : true) : false,
    },
    {
      n: 7,
      name: 'Flushes until the outbox was empty',
      measured: `${stripe.drain.flushes} flush${stripe.drain.flushes === 1 ? '' : 'es'}, ${int(stripe.drain.calls)} calls in all, totals ${stripe.drain.equal ? '= reference' : '≠ reference'}`,
      target: '',
      met: null,
    },
  ];
  bench.figures.push(...figures);
  bench.log(`stripe: first flush ${stripe.firstFlush.calls} calls, ${stripe.firstFlush.units}/${stripe.referenceUnits} units`);
}

async function measureStripeCalls(
  bench: Bench,
  adminUrl: string | undefined,
  baseEnv: NodeJS.ProcessEnv,
  logFile: string,
  cleanups: Array<() => Promise<unknown>>,
  startApp: StartApp,
) {
  const { plan: PLAN, privateKey, cpu } = bench;
  const stub = await forkChild('stripe-stub-2', 'test/bench/stripe-stub-server.ts', baseEnv, logFile);
  cleanups.push(() => stub.stop());
  const db: BenchDatabase = await createBenchDatabase(adminUrl);
  cleanups.push(() => db.drop());
  const app = await startApp('app-stripe', { ...baseEnv, ...db.env, STRIPE_API_URL: String(stub.ready.url), REPORTER_ENABLED: 'false' }, logFile);
  cleanups.push(() => app.stop());
  const tenancy = stripeTenancy(PLAN.stripeCustomers);
  await app.call('setup', tenancy.setups);
  const planOf = (i: number) => ({ fixture: STRIPE_MIX[i % STRIPE_MIX.length]!, locationId: tenancy.locations[Math.floor(i / STRIPE_MIX.length) % tenancy.locations.length]! });
  const stream = deliveryStream('stripe', planOf, privateKey);
  stream.presign(PLAN.stripeEvents);
  const ackedIds: string[] = [];
  const meter = measureCpu({ app: app.pid, loadgen: process.pid, stub: stub.pid }, adminUrl ? [db.label] : []);
  // The time budget: the whole run stays under five minutes even when intake is slow; the figure says if it was cut.
  const deadlineMs = Math.max(30_000, bench.secondsLeft() * 1000 - 15_000);
  const ingest = await blast({ port: app.ready.port, connections: PLAN.connections, stream, amount: PLAN.stripeEvents, deadlineMs, onAck: (id) => ackedIds.push(id) });
  // The processor counts them (reporter off): the flush then finds every crossing.
  const inbox = await waitForEmptyInbox(app, 60);
  cpu.push({ phase: `7. ${int(ingest.ok)} events for the Stripe figure, processed`, cpu: meter.stop() });
  bench.log(`stripe: ${ingest.ok} of ${PLAN.stripeEvents} events acknowledged (${int(ingest.rps)} req/s)`);

  // The reference, from what was sent, for every delivery the app stored (each acknowledged one must be among them;
  // one in flight when a budget cut stopped the generator may be stored unacknowledged): units per "customer|meter".
  // A delivery in flight when a budget cut stopped the generator may still commit: wait until the count has not
  // moved for two seconds.
  let stored = await app.call<string[]>('webhookIds', { webhookPrefix: 'stripe-' });
  for (let unchanged = 0; unchanged < 4; ) {
    await sleep(500);
    const again = await app.call<string[]>('webhookIds', { webhookPrefix: 'stripe-' });
    unchanged = again.length === stored.length ? unchanged + 1 : 0;
    stored = again;
  }
  const storedSet = new Set(stored);
  const ackedNotStored = ackedIds.filter((id) => !storedSet.has(id)).length;
  const reference = new Map<string, number>();
  for (const id of stored) {
    const { fixture, locationId } = planOf(Number(id.slice('stripe-'.length)));
    const { meter: name, units } = referenceUnits(fixture);
    if (units === 0) continue;
    const k = `${tenancy.customerOf.get(locationId)}|${name}`;
    reference.set(k, (reference.get(k) ?? 0) + units);
  }
  const totals = (s: StubSnapshot) => {
    const m = new Map<string, number>();
    for (const e of s.events) m.set(`${e.customer}|${e.eventName}`, (m.get(`${e.customer}|${e.eventName}`) ?? 0) + e.value);
    return m;
  };
  const sameAs = (m: Map<string, number>) => reference.size === m.size && [...reference].every(([k, v]) => m.get(k) === v);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  const t = performance.now();
  const tick = await app.call<Record<string, number>>('flush');
  const flushMs = performance.now() - t;
  const afterFirst = await stub.call<StubSnapshot>('snapshot');
  const firstTotals = totals(afterFirst);
  const firstFlush = { calls: afterFirst.calls, refused: afterFirst.refused, pairsWithUnits: reference.size, units: sum(firstTotals), equal: sameAs(firstTotals), ms: flushMs, tick };

  let flushes = 1;
  for (; flushes < 20; flushes++) {
    const state = await app.call<{ pending: number; sending: number }>('counts', { webhookPrefix: 'stripe-' });
    if (state.pending === 0 && state.sending === 0) break;
    await app.call('flush');
  }
  const final = await stub.call<StubSnapshot>('snapshot');
  const drain = { flushes, calls: final.calls, units: sum(totals(final)), equal: sameAs(totals(final)) };
  await app.stop();
  await stub.stop();
  await db.drop();
  return {
    events: stored.length,
    cutByBudget: stored.length < PLAN.stripeEvents,
    acknowledged: ingest.ok,
    ackedNotStored,
    pairs: reference.size,
    referenceUnits: sum(reference),
    reference: Object.fromEntries(reference),
    firstFlush: { ...firstFlush, totals: Object.fromEntries(firstTotals) },
    drain,
    ingest: withoutLatencies(ingest),
    inboxDrainSeconds: inbox.seconds,
  };
}
