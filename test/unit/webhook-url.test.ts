import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendWebhook } from '../../server/alerts/senders';
import { checkWebhookUrl, isPublicAddress } from '../../server/alerts/webhook-url';

/**
 * The alert webhook goes to public addresses only (server/alerts/webhook-url.ts): a URL naming a private or local
 * address is refused when saved, and a host name that resolves to one is not connected to when an alert is sent —
 * checked here against a real server listening on this machine, which answers 200 to anyone who reaches it.
 */
let server: Server;
let hits = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    hits += 1;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the alert webhook URL', () => {
  it.each([
    'https://127.0.0.1/hook',
    'https://localhost:8443/hook',
    'https://api.localhost/hook',
    'https://10.0.0.5/hook',
    'https://192.168.1.20/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
  ])('when %s is saved, then it is refused as a private or local address', (url) => {
    expect(() => checkWebhookUrl(url)).toThrow(/must be a public address on the internet/);
  });

  it('when a public https URL or a public IP is saved, then it is kept as given; blank is no URL', () => {
    expect(checkWebhookUrl(' https://hooks.agency.example/meterbridge ')).toBe('https://hooks.agency.example/meterbridge');
    expect(checkWebhookUrl('https://8.8.8.8/hook')).toBe('https://8.8.8.8/hook');
    expect(checkWebhookUrl('  ')).toBeNull();
    expect(() => checkWebhookUrl('http://hooks.agency.example/x')).toThrow(/must be an https URL/);
    expect([isPublicAddress('8.8.8.8'), isPublicAddress('172.16.0.1'), isPublicAddress('100.64.0.1')]).toEqual([true, false, false]);
  });

  it('when an alert is sent to a host name that resolves to this machine, then no connection is made and the attempt says why', async () => {
    const { port } = server.address() as AddressInfo;
    const result = await sendWebhook(`http://localhost:${port}/hook`, `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`, 'alert_1', '{}');
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/^Not sent: the host resolves to a private or local address, which Meterbridge does not post to \(DNS lookup 127\.0\.0\.1.*is not allowed/);
    expect(hits).toBe(0);
  });
});
