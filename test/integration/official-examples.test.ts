/**
 * HighLevel's OWN example payloads (test/fixtures/highlevel/official, verbatim from GoHighLevel/highlevel-api-docs
 * `docs/webhook events/*.md`; file and commit in SOURCES.json) replayed against the real app, signed, through
 * POST /webhooks/highlevel: each is answered 200 with exactly the usage stated here. A new example without a row fails.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { findUsageByWebhookId } from '../../server/metering/ledger-repository';
import { findAgency, findInstallSyncRequest, findSubAccount } from '../../server/tenancy/accounts-repository';
import { officialExample, officialExampleNames, officialSources } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

type Usage = [metric: string, quantity: number, direction: 'inbound' | 'outbound' | null];
/** Per example: the answer's status and the usage records, [metric, quantity, direction]; [] is "no usage". */
const EXPECTED: Record<string, { status: 'accepted' | 'ignored'; usage: Usage[] }> = {
  // Typed OutboundMessage though its text calls it inbound: the event type decides (120 s → 2 minutes).
  'inbound-call-example-typed-OutboundMessage': { status: 'accepted', usage: [['call_minutes', 2, 'outbound']] },
  // A call that reached voicemail, no callDuration: recorded, 0 minutes.
  'inbound-call-voicemail': { status: 'accepted', usage: [['call_minutes', 0, 'inbound']] },
  'inbound-email': { status: 'accepted', usage: [['email', 1, 'inbound']] },
  'inbound-sms': { status: 'accepted', usage: [['sms', 1, 'inbound'], ['sms_segments', 1, 'inbound']] },
  'install-agency': { status: 'accepted', usage: [] },
  'install-location-non-whitelabel': { status: 'accepted', usage: [] },
  'install-location-whitelabel': { status: 'accepted', usage: [] },
  // Default email source is conversation emails: LCEmailStats delivered is recorded with 0.
  'lc-email-stats': { status: 'accepted', usage: [['email', 0, 'outbound']] },
  'location-create': { status: 'accepted', usage: [] },
  'location-update': { status: 'accepted', usage: [] },
  'outbound-call': { status: 'accepted', usage: [['call_minutes', 2, 'outbound']] },
  'outbound-email': { status: 'accepted', usage: [['email', 1, 'outbound']] },
  // Says "direction": "inbound" but is an OutboundMessage.
  'outbound-sms': { status: 'accepted', usage: [['sms', 1, 'outbound'], ['sms_segments', 1, 'outbound']] },
  'outbound-voicemail-workflow': { status: 'accepted', usage: [['voicemail_drops', 1, 'outbound']] },
  // ProviderOutboundMessage goes to a conversation provider's delivery URL, not to app webhooks; if one ever
  // reached us (its `type` is the channel, "SMS" / "Email"), it is kept and ignored.
  'provider-outbound-email': { status: 'ignored', usage: [] },
  'provider-outbound-sms': { status: 'ignored', usage: [] },
  'uninstall-agency': { status: 'accepted', usage: [] },
  'uninstall-location': { status: 'accepted', usage: [] },
};

describe('HighLevel’s own documented examples', () => {
  it('when the examples directory is read, then every example has an expected row and a source doc, and nothing else does', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(officialExampleNames);
    expect(Object.keys(officialSources.files).map((f) => path.basename(f, '.json')).sort()).toEqual(officialExampleNames);
    expect(officialSources).toMatchObject({ source_repo: 'GoHighLevel/highlevel-api-docs', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it.each(officialExampleNames)('when %s arrives signed, then it is answered 200 with exactly its usage', async (name) => {
    const body = officialExample(name);
    const expected = EXPECTED[name]!;
    const res = await t.postSigned(body).expect(200);
    expect(res.body).toMatchObject({ status: expected.status, eventType: body.type });
    const usage = await findUsageByWebhookId(t.database.db, res.body.webhookId);
    expect(usage.map((u) => [u.metric, Number(u.quantity), u.direction])).toEqual(expected.usage);
    const [event] = await selectRows<{ payload: unknown }>(t.database.db, sql`select payload from activity_events where webhook_id = ${res.body.webhookId}`);
    expect(event?.payload).toEqual(body);
  });

  it('when the documented INSTALL examples (no installType) were replayed, then the agency one asked for a sub-account sync and the location ones installed their sub-account', async () => {
    const agency = officialExample('install-agency');
    expect(await findAgency(t.database.db, String(agency.companyId))).toBeTruthy();
    expect(await findInstallSyncRequest(t.database.db, String(agency.companyId))).not.toBeNull();
    const location = officialExample('install-location-whitelabel');
    const sub = await findSubAccount(t.database.db, String(location.locationId));
    expect(sub).toMatchObject({ companyId: location.companyId });
  });

  it('when the OutboundMessage example contradicts its direction, then the record keeps HighLevel’s field beside the billed direction', async () => {
    const res = await t.postSigned({ ...officialExample('outbound-sms'), webhookId: 'official-direction-kept' }).expect(200);
    const usage = await findUsageByWebhookId(t.database.db, res.body.webhookId);
    expect(usage.map((u) => [u.direction, u.attributes])).toEqual([
      ['outbound', { directionField: 'inbound' }],
      ['outbound', { encoding: 'GSM-7', directionField: 'inbound' }],
    ]);
  });
});
