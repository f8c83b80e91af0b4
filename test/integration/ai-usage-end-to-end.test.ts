import { findCounter } from '../../server/metering/rules-repository';
import { drainReporter, setUpBilling, TEST_STRIPE_KEY } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startStripeStub, type StripeStub } from '../support/stripe-stub';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
let stripe: StripeStub;
const LOCATION = 've9EPM428h8vShlRW1KT';
const CUSTOMER = 'cus_HarborDentalAi01';

/** The AI fixtures with the o200k_base tokens of their text (test/unit/ai-messages.test.ts tables them). */
const AI_FIXTURES: Array<[name: string, tokens: number | null]> = [
  ['conversation-ai/sms-unattended-reply', 24], // unattended
  ['conversation-ai/live-chat-ai-user', 41], // user:aiBotUser00000000001
  ['conversation-ai/sms-ai-provider', 34], // provider:cpAiReceptionist0001
  ['conversation-ai/email-ai-source-api', 41], // source:api (its plainText)
  ['conversation-ai/sms-human-reply', null], // a person: not AI
];
const TOKENS_PER_UNIT = 25;

beforeAll(async () => {
  stripe = await startStripeStub();
  stripe.customers.add(CUSTOMER);
  stripe.apiKeys.add(TEST_STRIPE_KEY);
  t = await startTestService({
    STRIPE_API_URL: stripe.url,
    REPORTER_RETRY_BASE_SECONDS: '0',
    AI_MESSAGE_SENDERS: 'unattended,user:aiBotUser00000000001,provider:cpAiReceptionist0001,source:api',
  });
  await setUpBilling(t.service, {
    companyId: 'companyAiBilling01',
    locationId: LOCATION,
    customer: CUSTOMER,
    rules: [
      { metric: 'ai_tokens', threshold: TOKENS_PER_UNIT },
      { metric: 'ai_messages', threshold: 1 },
    ],
  });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

describe('end to end: AI-written messages in, ai_tokens and ai_messages units out', () => {
  it('when the AI fixtures arrive through the webhook endpoint, then Stripe receives floor(tokens / 25) ai_tokens units and one ai_messages unit per AI message', async () => {
    for (const [name] of AI_FIXTURES) await t.postSigned(fixture(name)).expect(200);
    await drainReporter(t.service);

    const aiTokens = AI_FIXTURES.reduce((sum, [, tokens]) => sum + (tokens ?? 0), 0);
    const aiMessages = AI_FIXTURES.filter(([, tokens]) => tokens !== null).length;
    expect(aiTokens).toBe(140);
    const received = stripe.events.map((e) => [e.eventName, e.customer, e.value]).sort();
    expect(received).toEqual(
      [
        ['meterbridge_ai_messages', CUSTOMER, String(aiMessages)],
        ['meterbridge_ai_tokens', CUSTOMER, String(Math.floor(aiTokens / TOKENS_PER_UNIT))],
      ].sort(),
    );
    expect(await findCounter(t.database.db, LOCATION, 'ai_tokens')).toEqual({ total: '140.000000', billedUnits: 5 });
  });

  it('when the same AI fixtures are delivered again, then nothing more is billed', async () => {
    const before = stripe.requests.length;
    for (const [name] of AI_FIXTURES) {
      const res = await t.postSigned(fixture(name)).expect(200);
      expect(res.body.status).toBe('duplicate');
    }
    await drainReporter(t.service);
    expect(stripe.requests.length).toBe(before);
    expect(await findCounter(t.database.db, LOCATION, 'ai_tokens')).toEqual({ total: '140.000000', billedUnits: 5 });
  });

  it('when one more AI reply brings the carried 15 tokens past 25, then exactly one more ai_tokens unit is sent', async () => {
    const reply = { ...fixture('conversation-ai/sms-unattended-reply'), webhookId: 'ai-e2e-extra-1', messageId: 'm1cai0000000000000x1', body: 'hello world '.repeat(5).trim() };
    await t.postSigned(reply).expect(200);
    await drainReporter(t.service);
    // "hello world hello world …" (5×) is 10 tokens: 15 + 10 = 25 → 1 unit, 0 carried.
    const tokenEvents = stripe.events.filter((e) => e.eventName === 'meterbridge_ai_tokens').map((e) => e.value);
    expect(tokenEvents).toEqual(['5', '1']);
    expect(await findCounter(t.database.db, LOCATION, 'ai_tokens')).toEqual({ total: '150.000000', billedUnits: 6 });
  });
});
