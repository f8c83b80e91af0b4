/**
 * `npm run bench:overview`: how long the first Overview answer (GET /api/money) takes for an agency with many
 * subscribed clients when every Stripe call takes a while. The Stripe double answers after OVERVIEW_LATENCY_MS
 * (default 50 ms) per call; OVERVIEW_CLIENTS (default 300) sub-accounts each have a customer and a subscription, made
 * through the app's own routes. Measured on a cold process (the in-memory read cache empty): right after the set-up,
 * and again after a restart on the same database once the background refresh (the `invoice-previews` job, when the
 * app has one) has stored every preview; and, as the baseline, every preview read live six at a time (what the
 * Overview's request did before previews were stored). Prints the figures and the ratio first answer / baseline;
 * nothing here fails on a figure (benchmarks are not tests). Runs in-process on TEST_DATABASE_URL's server, else PGlite.
 */
import request from 'supertest';
import { buildService, type Service } from '../../server/main';
import { setUpPaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService } from '../support/test-service';
import { ms, ratio } from './report';

const CLIENTS = Number(process.env.OVERVIEW_CLIENTS ?? 300);
const LATENCY_MS = Number(process.env.OVERVIEW_LATENCY_MS ?? 50);
const COMPANY = 'companyBenchOverview1';
const PREVIEW = 'POST /v1/invoices/create_preview';

const log = (message: string) => process.stderr.write(`${message}\n`);
const previewCalls = (stripe: StripeStub) => stripe.requestLog.filter((r) => `${r.method} ${r.path}` === PREVIEW).length;

/** Times one GET /api/money on `service`: milliseconds, preview calls made meanwhile, and the answer's previews note. */
async function firstOverview(service: Service, stripe: StripeStub, token: string) {
  const before = previewCalls(stripe);
  const started = performance.now();
  const res = await request(service.app).get('/api/money?months=6').set('authorization', `Bearer ${token}`).expect(200);
  const elapsed = performance.now() - started;
  return { ms: elapsed, calls: previewCalls(stripe) - before, next: res.body.nextInvoice, previews: res.body.previews ?? null };
}

async function main(): Promise<void> {
  const stripe = await startStripeStub();
  const t = await startTestService({ STRIPE_API_URL: stripe.url });
  try {
    const agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
    log(`setting up ${CLIENTS} subscribed sub-accounts…`);
    const ids = Array.from({ length: CLIENTS }, (_, i) => `locBenchOverview${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id, j) => {
          await agency.addSubAccount(id, `Client ${i + j}`);
          await t.http.put(`/api/sub-accounts/${id}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200);
        }),
      );
    }
    stripe.latencyMs = LATENCY_MS;
    const cold = await firstOverview(t.service, stripe, agency.agencyToken);
    log(`cold (nothing stored): ${ms(cold.ms)}, ${cold.calls} preview calls, next invoices ${JSON.stringify(cold.next)}, previews ${JSON.stringify(cold.previews)}`);

    let refresh: { ms: number; calls: number } | null = null;
    const before = previewCalls(stripe);
    const started = performance.now();
    try {
      await t.service.scheduler.runNow('invoice-previews');
      refresh = { ms: performance.now() - started, calls: previewCalls(stripe) - before };
      log(`background refresh of every preview: ${ms(refresh.ms)}, ${refresh.calls} preview calls`);
    } catch (err) {
      log(`no background refresh in this version (${(err as Error).message})`);
    }
    // A restart: a new process on the same database, its read cache empty.
    const restarted = await buildService({ config: t.service.config, database: t.database });
    const warm = await firstOverview(restarted, stripe, agency.agencyToken);
    log(`after a restart: ${ms(warm.ms)}, ${warm.calls} preview calls, next invoices ${JSON.stringify(warm.next)}, previews ${JSON.stringify(warm.previews)}`);
    // The baseline: every preview read live, six at a time, as the Overview's request did before previews were stored.
    const liveStarted = performance.now();
    for (let i = 0; i < ids.length; i += 6) await Promise.all(ids.slice(i, i + 6).map((id) => restarted.payments.nextInvoice(id)));
    const live = performance.now() - liveStarted;
    await restarted.close();
    log(`every preview read live, 6 at a time: ${ms(live)}`);
    process.stdout.write(
      [
        `| Overview, ${CLIENTS} subscribed clients, Stripe ${LATENCY_MS} ms per call | first answer | preview calls on the request path |`,
        '|---|---:|---:|',
        `| cold process, nothing stored | ${ms(cold.ms)} | ${cold.calls} |`,
        `| cold process after a restart${refresh ? ', previews stored' : ''} | ${ms(warm.ms)} | ${warm.calls} |`,
        ...(refresh ? [`| background refresh of all previews (not on a request) | ${ms(refresh.ms)} | ${refresh.calls} |`] : []),
        `| baseline: every preview read live, 6 at a time (the request path before previews were stored) | ${ms(live)} | ${CLIENTS} |`,
        '',
        `Ratio, first answer after a restart / baseline: ${ratio(warm.ms / live)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await t.close();
    await stripe.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
