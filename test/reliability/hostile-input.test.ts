import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { selectRows } from '../../models/database';
import { eventSchemas, isHandledEventType } from '../../server/highlevel/webhook-events';
import { fixture, fixtureNames, officialExample, officialExampleNames } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';
import { recordFigures } from './support/figures';
import { byScale } from './support/scale';

/**
 * Thousands of generated deliveries (property-based): wrong types, missing fields, huge strings, deep nesting,
 * wrong or re-used signatures, unicode edge cases. Each must be answered as designed (200 accepted/ignored/duplicate,
 * 400, 401, 413), nothing invalid may be stored, and the process must stay up with flat memory.
 */
let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);
const RUNS = byScale(1_000, 10_000);
jest.setTimeout(byScale(180_000, 1_200_000));

/** A JSON value of any shape, with unicode edge cases and occasional deep nesting. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', '\uD800', '\u202E', '😊'.repeat(50), 'a'.repeat(5_000), '-1', 'NaN', '1e309', '2026-13-45T99:99:99Z'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }),
  fc.letrec((tie) => ({ nested: fc.oneof({ depthSize: 'small' }, fc.constant({}), fc.record({ deeper: tie('nested') })) })).nested,
);

type Mutation = { kind: 'set' | 'delete'; field: string; value?: unknown };
const FIELDS = ['type', 'locationId', 'messageType', 'messageTypeString', 'direction', 'body', 'attachments', 'callDuration', 'callStatus', 'duration', 'companyId', 'installType', 'appId', 'id', 'webhookId', 'timestamp', 'dateAdded', 'provider', 'conversationId', 'trialCall', 'webhookPayload'];
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'delete'),
  field: fc.constantFrom(...FIELDS),
  value: hostileValue,
}) as fc.Arbitrary<Mutation>;

/** Deliveries start from our fixtures and from HighLevel's own documented examples (test/fixtures/highlevel/official). */
const OFFICIAL = 'official:';
const STARTING_POINTS = [...fixtureNames, ...officialExampleNames.map((n) => OFFICIAL + n)];

/** How a generated delivery is signed: right, missing, by another key, re-used from another body, or garbage. */
const signing = fc.constantFrom('valid', 'valid', 'valid', 'missing', 'wrong-body', 'garbage', 'legacy-valid');

/**
 * Bytes in use after a full garbage collection: the JavaScript heap plus the memory of Buffers and other objects held
 * outside it (`external`: a kept request body is a Buffer). RSS is no leak measure: V8 and the allocator keep freed
 * pages, and jest buffers every console line of the test in memory (the app's warnings included).
 */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

describe('hostile input', () => {
  it('when thousands of malformed, mis-signed and odd deliveries arrive, then each is answered as designed and nothing invalid is stored', async () => {
    const counts: Record<string, number> = {};
    // Memory is measured once the first half has warmed up caches, pools and compiled code, then at the end.
    const WARM = Math.floor(RUNS / 2);
    let answered = 0;
    let heapWarm = 0;
    let reusedBody = '{"type":"OutboundMessage"}';
    let reusedSignature = t.keys.signEd25519(reusedBody);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STARTING_POINTS), fc.array(mutation, { maxLength: 4 }), signing, fc.boolean(), async (name, mutations, how, asText) => {
        const body: Record<string, unknown> = name.startsWith(OFFICIAL) ? officialExample(name.slice(OFFICIAL.length)) : fixture(name);
        for (const m of mutations) {
          if (m.kind === 'delete') delete body[m.field];
          else body[m.field] = m.value;
        }
        const raw = asText ? JSON.stringify(body).slice(0, -1) : JSON.stringify(body); // asText: truncated JSON
        let req = t.http.post('/webhooks/highlevel').set('content-type', 'application/json');
        if (how === 'valid') req = req.set('x-ghl-signature', t.keys.signEd25519(raw));
        if (how === 'legacy-valid') req = req.set('x-wh-signature', t.keys.signRsa(raw));
        if (how === 'wrong-body') req = req.set('x-ghl-signature', reusedSignature);
        if (how === 'garbage') req = req.set('x-ghl-signature', Buffer.from(raw.slice(0, 64)).toString('base64'));
        // A signature re-used from the previous delivery is wrong only when the bodies differ: two identical
        // generated bodies share one valid signature (seed 20261121 found such a pair).
        const reusedIsValid = how === 'wrong-body' && reusedBody === raw;
        reusedBody = raw;
        reusedSignature = t.keys.signEd25519(raw);
        const res = await req.send(raw);
        answered += 1;
        if (answered === WARM) heapWarm = heapAfterGc();
        counts[String(res.status)] = (counts[String(res.status)] ?? 0) + 1;
        const signed = how === 'valid' || how === 'legacy-valid' || reusedIsValid;
        if (!signed) expect(res.status).toBe(401);
        else if (asText) expect(res.status).toBe(400);
        else expect([200, 400, 413]).toContain(res.status);
        if (res.status === 200) expect(['accepted', 'ignored', 'duplicate']).toContain(res.body.status);
        else expect(res.body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
      }),
      { numRuns: RUNS, seed: SEED },
    );

    // Nothing stored is invalid: every processed event re-parses with its schema; every usage row is sound. Every
    // stored event is processed (none left received, none failed: a delivery that passed its schema is always usable).
    await t.drain();
    // A leak per request shows as growth in proportion to the requests past the warm-up (the first half: caches,
    // pools and compiled code settle there). Measured once the queue is drained and before the checks below read every
    // stored event into this process (those rows are the test's, not the service's). Without a leak: 1.6–2.3 KB per
    // request at 1,000 runs (jest's buffered console lines among it), under 1 KB at 10,000; with a 3 KB body kept per
    // request (a string or a Buffer, tried by hand): 5.0–5.6 KB at 1,000 runs.
    const bytesPerRequest = Math.round((heapAfterGc() - heapWarm) / (answered - WARM));
    const events = await selectRows<{ eventType: string; status: string; payload: unknown }>(
      t.database.db,
      sql`select event_type as "eventType", status, payload from activity_events`,
    );
    for (const event of events) {
      expect(['processed', 'ignored']).toContain(event.status);
      if (event.status === 'processed') {
        expect(isHandledEventType(event.eventType)).toBe(true);
        expect(eventSchemas[event.eventType as keyof typeof eventSchemas].safeParse(event.payload).success).toBe(true);
      } else {
        expect(isHandledEventType(event.eventType)).toBe(false);
      }
    }
    const [bad] = await selectRows<{ n: number }>(
      t.database.db,
      sql`select count(*)::int as n from usage_records u left join activity_events e on e.id = u.activity_event_id
          where e.id is null or u.quantity < 0 or u.location_id = '' or e.status <> 'processed'`,
    );
    expect(bad!.n).toBe(0);
    await t.http.get('/healthz').expect(200);
    expect(bytesPerRequest).toBeLessThan(4_000);
    const growthMb = Math.round((process.memoryUsage().heapUsed - heapWarm) / 1e6);
    recordFigures('hostile input', {
      deliveries: RUNS,
      answered200: counts['200'] ?? 0,
      answered400: counts['400'] ?? 0,
      answered401: counts['401'] ?? 0,
      answered413: counts['413'] ?? 0,
      storedEvents: events.length,
      invalidRows: bad!.n,
      heapGrowthMb: growthMb,
      heapBytesPerRequest: bytesPerRequest,
    });
  });
});
