/**
 * `npm run bench:overview`: how long the first Overview answer takes for an agency with many subscribed clients when
 * every Stripe call takes a while. The Overview page asks for the money (GET /api/money: the next invoices are
 * Stripe's previews) and what needs attention (GET /api/overview/attention: "billed without a card" is every
 * subscribed client's card) side by side; its answer is the slower of the two. The Stripe double answers after
 * OVERVIEW_LATENCY_MS (default 50 ms) per call; OVERVIEW_CLIENTS (default 300) sub-accounts each have a customer and a
 * subscription, made through the app's own routes, none a card. Measured on a cold process (the in-memory read cache
 * empty): right after the set-up, and again after a restart on the same database once the background refreshes (the
 * `invoice-previews` and `card-summaries` jobs, when the app has them) have stored every preview and card; the list's
 * `?status=no_card` filter too. Baselines: every preview read live six at a time, and every card read live four at a
 * time (what the requests did before previews and cards were stored). Prints the figures and the ratio first answer /
 * baseline; nothing here fails on a figure (benchmarks are not tests). Runs in-process on TEST_DATABASE_URL's server,
 * else PGlite. Written so it also runs on a version without the jobs (each missing job is said so). `--json`: one
 * line `BENCH_JSON {…}` instead of the table (what `npm run bench` reads, test/bench/phases/owner-views.ts).
 */
import request from 'supertest';
import { readCard } from '../../server/payments/cards';
import { buildService, type Service } from '../../server/main';
import { createStripeClientFactory } from '../../server/stripe/stripe-client';
import { setUpPaymentsAgency } from '../support/payments';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService } from '../support/test-service';
import { ms, ratio } from './report';

const CLIENTS = Number(process.env.OVERVIEW_CLIENTS ?? 300);
const LATENCY_MS = Number(process.env.OVERVIEW_LATENCY_MS ?? 50);
const COMPANY = 'companyBenchOverview1';
const KEY = `sk_test_${COMPANY}Key0001`;
const PREVIEW = 'POST /v1/invoices/create_preview';
/** A card read: the customer, the subscription or a payment method, by id (server/payments/cards.ts `readCard`). */
const CARD_CALL = /^GET \/v1\/(customers|subscriptions|payment_methods)\/[^/]+$/;

const log = (message: string) => process.stderr.write(`${message}\n`);
const calls = (stripe: StripeStub) => ({
  previews: stripe.requestLog.filter((r) => `${r.method} ${r.path}` === PREVIEW).length,
  cards: stripe.requestLog.filter((r) => CARD_CALL.test(`${r.method} ${r.path}`)).length,
});

/** Times `work`: milliseconds, and the preview and card calls made meanwhile. */
async function timed<T>(stripe: StripeStub, work: () => Promise<T>) {
  const before = calls(stripe);
  const started = performance.now();
  const value = await work();
  const elapsed = performance.now() - started;
  const after = calls(stripe);
  return { ms: elapsed, previews: after.previews - before.previews, cards: after.cards - before.cards, value };
}

/** The Overview's first answer on `service`: GET /api/money and GET /api/overview/attention side by side, as the page asks. */
function firstOverview(service: Service, stripe: StripeStub, token: string) {
  const get = (path: string) => request(service.app).get(path).set('authorization', `Bearer ${token}`).expect(200);
  return timed(stripe, async () => {
    const [money, attention] = await Promise.all([get('/api/money?months=6'), get('/api/overview/attention')]);
    const noCard = (attention.body.items as Array<{ kind: string; count: number }>).find((i) => i.kind === 'no_card')?.count;
    return { next: money.body.nextInvoice, previews: money.body.previews ?? null, noCard, cards: attention.body.cards ?? null };
  });
}

/** GET /api/sub-accounts?status=no_card on `service`: how many are listed and the cards' note. */
function noCardList(service: Service, stripe: StripeStub, token: string) {
  return timed(stripe, async () => {
    const body = (await request(service.app).get('/api/sub-accounts?status=no_card&pageSize=50').set('authorization', `Bearer ${token}`).expect(200)).body;
    return { total: body.total as number, cardCheck: body.cardCheck ?? null };
  });
}

/** Runs a job by name, or says the version has none. */
async function runJob(service: Service, stripe: StripeStub, name: string) {
  try {
    return await timed(stripe, () => service.scheduler.runNow(name));
  } catch (err) {
    log(`no ${name} job in this version (${(err as Error).message})`);
    return null;
  }
}

async function main(): Promise<void> {
  const stripe = await startStripeStub();
  const t = await startTestService({ STRIPE_API_URL: stripe.url });
  try {
    const agency = await setUpPaymentsAgency(t, stripe, COMPANY, { flatFeeCents: 4900 });
    log(`setting up ${CLIENTS} subscribed sub-accounts…`);
    const ids = Array.from({ length: CLIENTS }, (_, i) => `locBenchOverview${String(i).padStart(4, '0')}`);
    const customers = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id, j) => {
          customers.set(id, await agency.addSubAccount(id, `Client ${i + j}`));
          await t.http.put(`/api/sub-accounts/${id}/billing`).set('authorization', `Bearer ${agency.agencyToken}`).send({ rebillingEnabled: true }).expect(200);
        }),
      );
    }
    stripe.latencyMs = LATENCY_MS;
    const cold = await firstOverview(t.service, stripe, agency.agencyToken);
    log(`cold (nothing stored): ${ms(cold.ms)}, ${cold.previews} preview and ${cold.cards} card calls, ${JSON.stringify(cold.value)}`);

    // Both background refreshes side by side, as the scheduler runs them.
    const [previewRun, cardRun] = await Promise.all([runJob(t.service, stripe, 'invoice-previews'), runJob(t.service, stripe, 'card-summaries')]);
    if (previewRun) log(`background refresh of every preview: ${ms(previewRun.ms)}, ${previewRun.previews} preview calls`);
    if (cardRun) log(`background refresh of every card: ${ms(cardRun.ms)}, ${cardRun.cards} card calls`);
    // A restart: a new process on the same database, its read cache empty.
    const restarted = await buildService({ config: t.service.config, database: t.database });
    const warm = await firstOverview(restarted, stripe, agency.agencyToken);
    log(`after a restart: ${ms(warm.ms)}, ${warm.previews} preview and ${warm.cards} card calls, ${JSON.stringify(warm.value)}`);
    // The list's no_card filter on another new process (its read cache empty too).
    const another = await buildService({ config: t.service.config, database: t.database });
    const list = await noCardList(another, stripe, agency.agencyToken);
    await another.close();
    log(`?status=no_card after a restart: ${ms(list.ms)}, ${list.cards} card calls, ${JSON.stringify(list.value)}`);
    const stored = [previewRun ? 'previews' : null, cardRun ? 'cards' : null].filter(Boolean).join(' and ');

    // The baselines: every preview read live six at a time, every card four at a time, as the requests did before.
    const liveStarted = performance.now();
    for (let i = 0; i < ids.length; i += 6) await Promise.all(ids.slice(i, i + 6).map((id) => restarted.payments.nextInvoice(id)));
    const livePreviews = performance.now() - liveStarted;
    const client = createStripeClientFactory({ apiUrl: stripe.url })(KEY);
    const cardsStarted = performance.now();
    const subscriptionOf = (customer: string) => [...stripe.state.subscriptions.values()].find((s) => s.customer === customer)?.id ?? null;
    for (let i = 0; i < ids.length; i += 4) await Promise.all(ids.slice(i, i + 4).map((id) => readCard(client, customers.get(id)!, subscriptionOf(customers.get(id)!))));
    const liveCards = performance.now() - cardsStarted;
    await restarted.close();
    log(`every preview read live, 6 at a time: ${ms(livePreviews)}; every card read live, 4 at a time: ${ms(liveCards)}`);
    const both = Math.max(livePreviews, liveCards);
    if (process.argv.includes('--json')) {
      // What `npm run bench` reads (test/bench/phases/owner-views.ts), milliseconds.
      const figures = { clients: CLIENTS, latencyMs: LATENCY_MS, coldMs: cold.ms, coldCalls: cold.previews + cold.cards, restartMs: warm.ms, restartCalls: warm.previews + warm.cards, noCardListMs: list.ms, livePreviewsMs: livePreviews, liveCardsMs: liveCards };
      process.stdout.write(`BENCH_JSON ${JSON.stringify(figures)}\n`);
      return;
    }
    process.stdout.write(
      [
        `| Overview, ${CLIENTS} subscribed clients, Stripe ${LATENCY_MS} ms per call | first answer | preview calls on the request | card calls on the request |`,
        '|---|---:|---:|---:|',
        `| cold process, nothing stored | ${ms(cold.ms)} | ${cold.previews} | ${cold.cards} |`,
        `| cold process after a restart${stored ? `, ${stored} stored` : ''} | ${ms(warm.ms)} | ${warm.previews} | ${warm.cards} |`,
        `| \`?status=no_card\` on a cold process after a restart (${list.value.total} listed) | ${ms(list.ms)} | ${list.previews} | ${list.cards} |`,
        ...(previewRun ? [`| the invoice-previews job reading every preview (${previewRun.previews} calls), not on a request | ${ms(previewRun.ms)} | — | — |`] : []),
        ...(cardRun ? [`| the card-summaries job reading every card beside it (${cardRun.cards} calls), not on a request | ${ms(cardRun.ms)} | — | — |`] : []),
        `| baseline: every preview read live, 6 at a time (the money request before previews were stored) | ${ms(livePreviews)} | ${CLIENTS} | 0 |`,
        `| baseline: every card read live, 4 at a time (the attention request before cards were stored) | ${ms(liveCards)} | 0 | ≥ ${CLIENTS} |`,
        '',
        `Ratio, first answer after a restart / the slower baseline: ${ratio(warm.ms / both)}`,
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
