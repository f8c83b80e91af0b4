import { runDemo, type RunningDemo } from '../demo/demo';

/**
 * `npm run demo` as a newcomer runs it (here without pauses and with a smaller campaign): the walk reaches meter
 * events at the simulated Stripe with every unit the webhooks owe, and prints the page's URL.
 */
const CAMPAIGN = 60;
let demo: RunningDemo;
const lines: string[] = [];

beforeAll(async () => {
  demo = await runDemo({ port: 0, paceMs: 0, campaignSize: CAMPAIGN, keepGoing: false, say: (line) => lines.push(line) });
}, 120_000);
afterAll(() => demo?.stop());

describe('npm run demo', () => {
  it('when the walk finishes, then the install, the Stripe connection, three mapped sub-accounts and the page URL were printed, labelled a demo', () => {
    const text = lines.join('\n');
    expect(lines[0]).toMatch(/^DEMO — /);
    expect(text).toMatch(/Installed by OAuth: .* bulk install of 3 sub-accounts/);
    expect(text).toContain('Stripe connected in test mode');
    expect(lines.filter((l) => /^4\. .*: Stripe customer cus_\w+, subscription sub_\w+\.$/.test(l))).toHaveLength(3);
    expect(demo.pageUrl).toMatch(/^http:\/\/localhost:\d+\/app\/dev\?demo=1&type=agency&companyId=\w+&secret=/);
    expect(text).toContain(demo.pageUrl);
    expect(demo.highLevel.requests).toEqual(expect.arrayContaining(['GET /v2/oauth/chooselocation', 'POST /oauth/token', 'GET /oauth/installedLocations']));
  });

  it('when the campaign and the everyday mix were sent, then each customer has meter events and the campaign\'s customer exactly CAMPAIGN more SMS units', () => {
    const smsOf = (customer: string) => demo.stripe.events.filter((e) => e.customer === customer && e.eventName === 'meterbridge_sms').reduce((sum, e) => sum + Number(e.value), 0);
    const customers = [...new Set(demo.stripe.events.map((e) => e.customer))];
    expect(customers).toHaveLength(3);
    // Every sub-account got the same everyday mix; the first also got the campaign, so the difference is the campaign.
    const [campaignTarget, ...others] = customers.map(smsOf).sort((a, b) => b - a);
    expect(others[0]).toBe(others[1]);
    expect(others[0]).toBeGreaterThan(0);
    expect(campaignTarget! - others[0]!).toBe(CAMPAIGN);
    expect(lines.find((l) => l.startsWith('6. '))).toContain('outbox empty');
  });

  it('when the demo is asked to run with NODE_ENV=production, then it refuses before starting anything', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(runDemo({ port: 0, paceMs: 0, campaignSize: 1, keepGoing: false, say: () => undefined })).rejects.toThrow(/never runs with NODE_ENV=production/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});
