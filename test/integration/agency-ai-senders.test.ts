/**
 * Per-agency AI senders (server/ai/): an agency names who writes its AI messages in the settings API, and from
 * then on its outbound messages from those senders count as ai_messages and ai_tokens — its own, not another
 * agency's — on top of the deployment's AI_MESSAGE_SENDERS (unset here).
 */
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { countAiTokens } from '../../server/metering/token-count';
import { setUpBilling } from '../support/billing';
import { fixture } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
const AGENCY = 'aiSendersAgencyA1';
const OTHER = 'aiSendersAgencyB1';
const OWN_LOCATION = 'aiSendersLocA0001';
const OTHER_LOCATION = 'aiSendersLocB0001';
let token: string;
let otherToken: string;

/** The provider-sent AI reply fixture, re-addressed. */
const aiReply = (locationId: string, webhookId: string) => ({ ...fixture('conversation-ai/sms-ai-provider'), locationId, webhookId, messageId: `m-${webhookId}` });

/** ai_messages / ai_tokens stored for a delivery. */
async function aiUsage(webhookId: string) {
  return selectRows<{ metric: string; quantity: string }>(
    t.database.db,
    sql`select u.metric, u.quantity::int::text as quantity from usage_records u join activity_events e on e.id = u.activity_event_id
        where e.webhook_id = ${webhookId} and u.metric like 'ai_%' order by u.metric`,
  );
}

beforeAll(async () => {
  t = await startTestService();
  await setUpBilling(t.service, { companyId: AGENCY, locationId: OWN_LOCATION, customer: 'cus_AiSendersA', rules: [{ metric: 'ai_tokens', threshold: 25 }] });
  await setUpBilling(t.service, { companyId: OTHER, locationId: OTHER_LOCATION, customer: 'cus_AiSendersB', rules: [{ metric: 'ai_tokens', threshold: 25 }] });
  const issue = (companyId: string) => t.service.sessionTokens.issue({ userId: `u-${companyId}`, companyId, type: 'agency', role: 'admin', activeLocation: null });
  token = (await issue(AGENCY)).token;
  otherToken = (await issue(OTHER)).token;
});
afterAll(() => t.close());

describe('per-agency AI senders', () => {
  it('when no senders are named, then an AI app’s reply is an ordinary SMS', async () => {
    await t.postSigned(aiReply(OWN_LOCATION, 'ai-senders-1')).expect(200);
    expect(await aiUsage('ai-senders-1')).toEqual([]);
  });

  it('when the agency names its AI provider, then its replies count as ai_messages and ai_tokens, and the other agency’s do not', async () => {
    const set = await t.http.put('/api/ai-senders').set('authorization', `Bearer ${token}`).send({ markers: [' provider:cpAiReceptionist0001 ', 'provider:cpAiReceptionist0001'] }).expect(200);
    expect(set.body).toEqual({ markers: ['provider:cpAiReceptionist0001'] });
    await t.http.get('/api/ai-senders').set('authorization', `Bearer ${token}`).expect(200, { markers: ['provider:cpAiReceptionist0001'] });
    await t.http.get('/api/ai-senders').set('authorization', `Bearer ${otherToken}`).expect(200, { markers: [] });

    await t.postSigned(aiReply(OWN_LOCATION, 'ai-senders-2')).expect(200);
    await t.postSigned(aiReply(OTHER_LOCATION, 'ai-senders-3')).expect(200);
    const tokens = countAiTokens(fixture('conversation-ai/sms-ai-provider').body as string);
    expect(tokens).toBeGreaterThan(0);
    expect(await aiUsage('ai-senders-2')).toEqual([
      { metric: 'ai_messages', quantity: '1' },
      { metric: 'ai_tokens', quantity: String(tokens) },
    ]);
    expect(await aiUsage('ai-senders-3')).toEqual([]);
  });

  it('when the markers are cleared, then the next reply is ordinary again', async () => {
    await t.http.put('/api/ai-senders').set('authorization', `Bearer ${token}`).send({ markers: [] }).expect(200, { markers: [] });
    await t.postSigned(aiReply(OWN_LOCATION, 'ai-senders-4')).expect(200);
    expect(await aiUsage('ai-senders-4')).toEqual([]);
  });

  it('when a marker is not one of the four forms, then 400 invalid_marker names it and nothing changes', async () => {
    await t.http.put('/api/ai-senders').set('authorization', `Bearer ${token}`).send({ markers: ['unattended'] }).expect(200);
    for (const bad of ['robot:1', 'user:', 'user:a,user:b', 'source:has space']) {
      const res = await t.http.put('/api/ai-senders').set('authorization', `Bearer ${token}`).send({ markers: ['user:ok1', bad] }).expect(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_marker', message: expect.stringContaining(bad.split(',')[0]!) });
    }
    await t.http.get('/api/ai-senders').set('authorization', `Bearer ${token}`).expect(200, { markers: ['unattended'] });
  });
});
