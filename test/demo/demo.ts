/**
 * `npm run demo`: Meterbridge's main job end to end, with no HighLevel app and no Stripe account. The real service
 * (the composition root, as `npm start` builds it) runs against a simulated HighLevel (test/demo/
 * highlevel-simulator.ts) and the Stripe test double (test/support/stripe-stub.ts, test mode), on an embedded
 * database in a temporary folder. The walk, each step printed:
 * install by OAuth (bulk, three sub-accounts) → Stripe connected (test key) → prices → sub-accounts mapped to new
 * Stripe customers with subscriptions → webhooks replayed at a human pace, then a bulk SMS campaign → meter events
 * at the simulated Stripe → each client's next invoice (estimate) → the page's URL through `/app/dev`.
 * The service is labelled a demo (config `DEMO=true`: a banner on every page) and refuses production settings.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { loadConfig } from '../../server/config';
import { buildService, type Service } from '../../server/main';
import { ensureUiBuilt } from '../../server/ui/build-ui';
import { makeSigningKeys } from '../support/highlevel-fixtures';
import { encryptSsoPayload } from '../support/highlevel-sso';
import { withMeterSummaries } from '../support/stripe/meter-summaries';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startHighLevelSimulator, type HighLevelSimulator } from './highlevel-simulator';
import { CAMPAIGN_SMS, demoDelivery, EVERYDAY_MIX } from './traffic';

/** How the demo runs. Times in milliseconds. */
export interface DemoOptions {
  /** Port of the service; 0 picks a free one. */
  port: number;
  /** Pause between two everyday deliveries (the "realistic pace"); 0 sends them back to back. */
  paceMs: number;
  /** Messages in the bulk SMS campaign, sent all at once. */
  campaignSize: number;
  /** After the walk, keep sending one delivery every `paceMs` × 4 until `stop()` (false: return after the walk). */
  keepGoing: boolean;
  /** Where each line of narration goes. */
  say: (line: string) => void;
}

/** A demo that has finished its walk (and may still be trickling traffic). */
export interface RunningDemo {
  /** The page to open: the development host, pre-filled to sign in as the demo agency's admin. */
  pageUrl: string;
  service: Service;
  stripe: StripeStub;
  highLevel: HighLevelSimulator;
  stop(): Promise<void>;
}

export const DEMO_COMPANY = 'demoAgency0000000001';
export const DEMO_SHARED_SECRET = 'demo-shared-secret';
const DEMO_APP_ID = '6650c3c0d3b1a2f1e0a9d3m0';
const DEMO_STRIPE_KEY = `sk_test_demo${randomBytes(8).toString('hex')}`;
const LOCATIONS = [
  { _id: 'demoHarborDental0001', name: 'Harbor Dental' },
  { _id: 'demoBayPhysio0000002', name: 'Bay Physio' },
  { _id: 'demoSummitRoofing003', name: 'Summit Roofing' },
];
/** Per metric: "every N = 1 unit" and the retail price per unit in cents (base cost: HighLevel's, per unit). */
const PRICES = [
  { metric: 'sms', threshold: 1, cents: '2', baseCost: '0.79' },
  { metric: 'mms', threshold: 1, cents: '5', baseCost: '2' },
  { metric: 'email', threshold: 1, cents: '0.2', baseCost: '0.0675' },
  { metric: 'call_minutes', threshold: 1, cents: '4', baseCost: '1.4' },
  { metric: 'whatsapp', threshold: 1, cents: '1', baseCost: '0.5' },
  { metric: 'ai_call_minutes', threshold: 1, cents: '15', baseCost: '6' },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the walk and resolves once meter events have reached the simulated Stripe (or 60 s have passed).
 * @throws when a step the walk needs is refused (with the service's answer), or when run with NODE_ENV=production.
 */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  if (process.env.NODE_ENV === 'production') throw new Error('The demo never runs with NODE_ENV=production: it simulates HighLevel and Stripe.');
  const { say } = options;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'meterbridge-demo-'));
  const keys = makeSigningKeys();
  const stripe = await startStripeStub();
  withMeterSummaries(stripe); // so the Reconciliation screen's "Reconcile now" reads Stripe's totals in the demo too
  const highLevel = await startHighLevelSimulator({ companyId: DEMO_COMPANY, appId: DEMO_APP_ID, locations: LOCATIONS });

  // The environment is built here, never read from the caller's: no DATABASE_URL, key or Stripe key of theirs.
  // APP_URL (OAuth's redirect URI) needs the real port, so "any free port" is resolved before the config.
  const port = options.port || (await freePort());
  const config = loadConfig({
    DEMO: 'true',
    NODE_ENV: 'development',
    PORT: String(port),
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    HIGHLEVEL_CLIENT_ID: `${DEMO_APP_ID}-demo`,
    HIGHLEVEL_CLIENT_SECRET: 'demo-client-secret',
    HIGHLEVEL_SHARED_SECRET: DEMO_SHARED_SECRET,
    HIGHLEVEL_WEBHOOK_PUBLIC_KEY: keys.ed25519PublicPem,
    HIGHLEVEL_WEBHOOK_LEGACY_PUBLIC_KEY: keys.rsaPublicPem,
    HIGHLEVEL_API_URL: highLevel.url,
    HIGHLEVEL_MARKETPLACE_URL: highLevel.url,
    STRIPE_API_URL: stripe.url,
  });
  // A fresh clone has no ui/dist: build the page first, as `npm start` does.
  await ensureUiBuilt({ onlyIfMissing: true });
  const service = await buildService({ config });
  const server: Server = await service.listen(port);
  service.start();
  const base = `http://localhost:${(server.address() as AddressInfo).port}`;
  let stopped = false;
  let trickle: Promise<void> = Promise.resolve();
  const stop = async () => {
    stopped = true;
    await trickle;
    await service.close();
    await stripe.close();
    await highLevel.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    say(`DEMO — Meterbridge with a simulated HighLevel (${highLevel.url}) and a Stripe test double (${stripe.url}).`);
    say(`       Nothing is real: no HighLevel account, no Stripe account, data in ${dataDir} (deleted on exit).`);

    // 1. Install by OAuth, as an agency owner clicking "Install" in the marketplace would.
    const installPage = await followRedirects(`${base}/oauth/install`);
    if (installPage.status !== 200) throw new Error(`install answered ${installPage.status}: ${installPage.text.slice(0, 300)}`);
    say(`1. Installed by OAuth: agency ${DEMO_COMPANY}, bulk install of ${LOCATIONS.length} sub-accounts (${LOCATIONS.map((l) => l.name).join(', ')}).`);

    // 2. The agency admin opens the page (SSO) and connects Stripe.
    const payload = encryptSsoPayload({ userId: 'demoUser000000000001', companyId: DEMO_COMPANY, role: 'admin', type: 'agency', userName: 'Demo Owner', email: 'owner@demo.invalid' }, DEMO_SHARED_SECRET);
    const session = await call(base, 'POST', '/api/session', '', { payload });
    const token = session.token as string;
    const api = (method: string, route: string, body?: object) => call(base, method, route, token, body);
    const connection = await api('PUT', '/api/stripe/connection', { secretKey: DEMO_STRIPE_KEY });
    say(`2. Stripe connected in ${connection.mode} mode (key ending ${connection.keyLast4}); payment webhook configured: ${connection.webhook.configured}.`);

    // 3. Prices: one Stripe meter and one metered price per metric.
    for (const p of PRICES) {
      await api('PUT', `/api/pricing/${p.metric}`, { threshold: p.threshold, price: { currency: 'usd', interval: 'month', unitAmountDecimal: p.cents }, baseCostDecimal: p.baseCost });
    }
    say(`3. Priced ${PRICES.length} metrics: ${PRICES.map((p) => `${p.metric} ${p.cents}¢`).join(', ')} (every 1 = 1 unit).`);

    // 4. Each sub-account gets a Stripe customer and a subscription carrying the metered prices.
    const nameOfCustomer = new Map<string, string>();
    for (const location of LOCATIONS) {
      const customer = await api('PUT', `/api/sub-accounts/${location._id}/customer`, { create: true });
      nameOfCustomer.set(customer.stripeCustomerId, location.name);
      const billing = await api('PUT', `/api/sub-accounts/${location._id}/billing`, { rebillingEnabled: true });
      say(`4. ${location.name}: Stripe customer ${customer.stripeCustomerId}, subscription ${billing.stripeSubscriptionId}.`);
    }

    // 5. Usage: the everyday mix at a human pace, then a bulk SMS campaign all at once.
    const send = (body: Record<string, unknown>) => postSigned(base, keys.signEd25519, body);
    let everyday = 0;
    for (const name of EVERYDAY_MIX) {
      for (const location of LOCATIONS) {
        await send(demoDelivery(name, location._id, new Date()));
        everyday++;
        if (options.paceMs) await sleep(options.paceMs);
      }
    }
    say(`5. Replayed ${everyday} HighLevel webhooks (SMS, MMS, email, calls, WhatsApp, Voice AI) across the sub-accounts.`);
    const campaign = Array.from({ length: options.campaignSize }, () => demoDelivery(CAMPAIGN_SMS, LOCATIONS[0]!._id, new Date(), { source: 'bulk_actions' }));
    const started = Date.now();
    const answers = await Promise.all(campaign.map(send));
    say(`   Bulk SMS campaign: ${campaign.length} deliveries for ${LOCATIONS[0]!.name} in ${Date.now() - started} ms, all acknowledged: ${answers.every((s) => s === 200)}.`);

    // 6. Meter events: the reporter sends one per (customer, meter) batch; wait until they have all arrived.
    const deadline = Date.now() + 60_000;
    let pending = Infinity;
    while (Date.now() < deadline) {
      pending = await outboxPending(service);
      if (pending === 0 && stripe.events.length > 0) break;
      await sleep(250);
    }
    const units = stripe.events.reduce((sum, e) => sum + Number(e.value), 0);
    say(`6. Meter events at the simulated Stripe: ${stripe.events.length} events carrying ${units} units (${pending === 0 ? 'outbox empty' : `${pending} reports still pending`}).`);
    for (const [customer, name] of nameOfCustomer) {
      const perMeter = new Map<string, number>();
      for (const e of stripe.events.filter((event) => event.customer === customer)) perMeter.set(e.eventName, (perMeter.get(e.eventName) ?? 0) + Number(e.value));
      say(`     ${name} (${customer}): ${[...perMeter].sort().map(([meter, n]) => `${meter.replace(/^meterbridge_/, '')} ${n}`).join(', ')}`);
    }

    // 7. What each client will be invoiced this period, at today's prices (Stripe's invoice is the truth).
    for (const location of LOCATIONS) {
      const charges = await api('GET', `/api/sub-accounts/${location._id}/current-period`);
      say(`7. ${location.name}: next invoice so far ≈ ${formatCents(charges.estimatedTotalCents, charges.currency)} (${charges.lines.filter((l: { unitsBilled?: string }) => Number(l.unitsBilled ?? 0) > 0).length} metrics billed).`);
    }

    const pageUrl = `${base}/app/dev?demo=1&type=agency&companyId=${DEMO_COMPANY}&secret=${DEMO_SHARED_SECRET}`;
    say(`8. Open the settings page as the agency owner: ${pageUrl}`);
    say(`   (the development host plays HighLevel's frame; press "Open the page as this user" — it signs in with the demo's Shared Secret "${DEMO_SHARED_SECRET}")`);
    if (options.keepGoing) {
      say('   Live: one new HighLevel webhook every few seconds. Ctrl-C stops the demo.');
      trickle = (async () => {
        for (let i = 0; !stopped; i++) {
          await send(demoDelivery(EVERYDAY_MIX[i % EVERYDAY_MIX.length]!, LOCATIONS[i % LOCATIONS.length]!._id, new Date())).catch(() => undefined);
          for (let waited = 0; waited < Math.max(options.paceMs * 4, 1000) && !stopped; waited += 250) await sleep(250);
        }
      })();
    }
    return { pageUrl, service, stripe, highLevel, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A free loopback port (listen on 0, read it, close). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function call(base: string, method: string, route: string, token: string, body?: object): Promise<any> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(json.error ?? json)}`);
  return json;
}

async function postSigned(base: string, sign: (raw: string) => string, body: Record<string, unknown>): Promise<number> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${base}/webhooks/highlevel`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-ghl-signature': sign(raw) }, body: raw });
  await res.arrayBuffer();
  return res.status;
}

/** GETs `url`, following redirects by hand (the simulator's authorize page sends the browser back to the app). */
async function followRedirects(url: string, hops = 5): Promise<{ status: number; text: string }> {
  let next = url;
  for (let i = 0; i < hops; i++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      next = new URL(location, next).toString();
      continue;
    }
    return { status: res.status, text: await res.text() };
  }
  throw new Error(`more than ${hops} redirects from ${url}`);
}

async function outboxPending(service: Service): Promise<number> {
  const [row] = await selectRows<{ n: number }>(
    service.database.db,
    sql`select (select count(*)::int from meter_reports where status = 'pending') + (select count(*)::int from meter_batches where status = 'sending') as n`,
  );
  return row!.n;
}

/** "$1.234" style for a decimal string of cents (money stays a decimal string: no float). */
function formatCents(cents: string, currency: string): string {
  const [whole, fraction = ''] = cents.split('.');
  const padded = whole!.padStart(3, '0');
  const dollars = `${padded.slice(0, -2).replace(/^0+(?=\d)/, '')}.${padded.slice(-2)}${fraction ? fraction.replace(/0+$/, '') : ''}`;
  return `${currency === 'usd' ? '$' : `${currency.toUpperCase()} `}${dollars}`;
}
