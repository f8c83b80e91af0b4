/**
 * The deliveries the benchmark sends: HighLevel-shaped webhook bodies built from the test fixtures, each with a
 * unique webhookId and messageId, signed in advance with the benchmark's own Ed25519 key (the app is started with
 * its public half), so the load generator only copies bytes.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { fixture, fixtureNames } from '../support/highlevel-fixtures';
import type { BillingSetup } from '../support/billing';
import type { RuleInput } from '../../server/metering/rebilling-rules';

/** One signed delivery, ready to send. */
export interface SignedDelivery {
  webhookId: string;
  body: Buffer;
  signature: string;
}

/** The signing key pair standing in for HighLevel's. */
export function makeWebhookKey(): { publicPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

/** The fixture mix: every SMS, MMS, email and call example HighLevel documents, in equal parts. */
export const INTAKE_MIX = fixtureNames.filter((name) => /^(sms|mms|email|call)-/.test(name));

const templates = new Map<string, Record<string, unknown>>();
function template(name: string): Record<string, unknown> {
  let t = templates.get(name);
  if (!t) templates.set(name, (t = fixture(name)));
  return t;
}

/** A fixture re-addressed to `locationId`, with fresh ids and the current time. */
export function deliveryBody(name: string, locationId: string, webhookId: string, now = new Date()): Buffer {
  const at = now.toISOString();
  const body = { ...template(name), locationId, webhookId, messageId: `m-${webhookId}`, dateAdded: at, timestamp: at };
  return Buffer.from(JSON.stringify(body));
}

/** What the next delivery of a stream is: which fixture, for which sub-account. */
export type DeliveryPlan = (i: number) => { fixture: string; locationId: string };

/**
 * A stream of unique signed deliveries. `presign(n)` signs ahead so the load generator only takes; when a run takes
 * more than was signed, `take()` signs on the spot and counts it (the report says so: the generator then did work).
 */
export function deliveryStream(prefix: string, plan: DeliveryPlan, privateKey: KeyObject) {
  const ready: SignedDelivery[] = [];
  let made = 0;
  let taken = 0;
  let signedOnTheFly = 0;
  const make = (): SignedDelivery => {
    const i = made++;
    const { fixture: name, locationId } = plan(i);
    const webhookId = `${prefix}-${i}`;
    const body = deliveryBody(name, locationId, webhookId);
    return { webhookId, body, signature: sign(null, body, privateKey).toString('base64') };
  };
  return {
    presign(n: number): void {
      while (ready.length - taken < n) ready.push(make());
    },
    take(): SignedDelivery {
      if (taken < ready.length) {
        const d = ready[taken]!;
        ready[taken++] = undefined as unknown as SignedDelivery; // let it be collected once sent
        return d;
      }
      signedOnTheFly += 1;
      return make();
    },
    /** Deliveries still signed and unsent. */
    get available() {
      return ready.length - taken;
    },
    get taken() {
      return taken + signedOnTheFly;
    },
    get signedOnTheFly() {
      return signedOnTheFly;
    },
    /** The fixture of delivery i (for the reference units). */
    plan,
  };
}

export type DeliveryStream = ReturnType<typeof deliveryStream>;

/**
 * The bench's agencies connect with a LIVE-mode key shape: the Stripe double answers as live mode does (1,000 meter
 * events/s), and with a test-mode key the reporter keeps each agency under test mode's 25/s instead
 * (server/stripe/meter-reporter.ts), which would measure Stripe's sandbox limit rather than Meterbridge.
 */
// Live mode (the double's test-mode rate limits would cap the bench); built in two parts so no scanner reads it as a key.
export const BENCH_STRIPE_KEY = ['sk', 'live', 'meterbridgeBenchKey0001'].join('_');

/** A HighLevel-looking id (20 characters). */
const hlId = (prefix: string, n: number) => `${prefix}${String(n).padStart(20 - prefix.length, '0')}`;

/**
 * The intake tenancy: `agencies` agencies × `perAgency` sub-accounts, each mapped to its own Stripe customer, with
 * agency-default rules that bill everything in the mix (so nearly every delivery crosses a threshold).
 */
export function intakeTenancy(agencies = 5, perAgency = 10): { setups: BillingSetup[]; locations: string[] } {
  const rules: RuleInput[] = [
    { metric: 'sms', threshold: 1 },
    { metric: 'sms_segments', threshold: 2, direction: 'both' },
    { metric: 'mms', threshold: 1 },
    { metric: 'email', threshold: 1, direction: 'both' },
    { metric: 'call_minutes', threshold: 1 },
  ];
  const setups: BillingSetup[] = [];
  for (let a = 0; a < agencies; a++) {
    for (let l = 0; l < perAgency; l++) {
      const n = a * perAgency + l;
      setups.push({
        companyId: hlId('benchAgency', a),
        locationId: hlId('benchLoc', n),
        customer: `cus_bench${String(n).padStart(4, '0')}`,
        stripeKey: BENCH_STRIPE_KEY,
        rules: l === 0 ? rules : [], // agency defaults, set once per agency; later sub-accounts inherit them
      });
    }
  }
  return { setups, locations: setups.map((s) => s.locationId) };
}

/**
 * The Stripe-calls tenancy: one agency, `customers` sub-accounts each with its own customer, and two meters
 * (SMS every 1, call minutes every 1), so `customers × 2` (customer, meter) pairs.
 */
export function stripeTenancy(customers = 5): { setups: BillingSetup[]; locations: string[]; customerOf: Map<string, string> } {
  const rules: RuleInput[] = [
    { metric: 'sms', threshold: 1 },
    { metric: 'call_minutes', threshold: 1 },
  ];
  const setups: BillingSetup[] = Array.from({ length: customers }, (_, n) => ({
    companyId: hlId('stripeAgency', 0),
    locationId: hlId('stripeLoc', n),
    customer: `cus_meter${String(n).padStart(4, '0')}`,
    stripeKey: BENCH_STRIPE_KEY,
    rules: n === customers - 1 ? rules : [],
  }));
  return {
    setups,
    locations: setups.map((s) => s.locationId),
    customerOf: new Map(setups.map((s) => [s.locationId, s.customer])),
  };
}

/**
 * The Stripe-calls mix and the units each delivery owes under the Stripe-calls rules (outbound SMS: 1; a call: its
 * started minutes, from the fixture's own duration), computed from what is sent, not by the app.
 */
export const STRIPE_MIX = ['sms-outbound', 'sms-outbound-unicode-long', 'sms-custom-provider', 'call-outbound-completed', 'call-inbound-voicemail'];

export function referenceUnits(name: string): { meter: string; units: number } {
  if (name.startsWith('sms-')) return { meter: 'meterbridge_sms', units: 1 };
  const seconds = Number((template(name) as { callDuration?: number }).callDuration ?? 0);
  return { meter: 'meterbridge_call_minutes', units: Math.ceil(seconds / 60) };
}
