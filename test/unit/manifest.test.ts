import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { endpointScopes, HIGHLEVEL_ENDPOINTS, isDeclaredEndpoint } from '../../server/highlevel/endpoints';
import { EVENT_SUBSCRIPTIONS, eventScopes, subscribedEventNames } from '../../server/highlevel/event-subscriptions';
import { eventSchemas } from '../../server/highlevel/webhook-events';
import { loadManifest, MANIFEST_PATH } from '../../server/highlevel/manifest';
import { moduleScopes } from '../../server/highlevel/marketplace-modules';

/** Every TypeScript file under server/, with its text. */
function serverSources(dir = path.join(__dirname, '..', '..', 'server')): Array<{ file: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return serverSources(file);
    return file.endsWith('.ts') ? [{ file, text: readFileSync(file, 'utf8') }] : [];
  });
}

describe('manifest.json', () => {
  const manifest = loadManifest();

  it('when the manifest is read at boot, then it validates', () => {
    expect(manifest.name).toBe('Meterbridge');
    expect(manifest.oauth.redirectPath).toBe('/oauth/callback');
    expect(manifest.webhooks.path).toBe('/webhooks/highlevel');
  });

  it('when compared with the intake, then it subscribes exactly to the handled events, by the developer portal’s names', () => {
    expect(Object.keys(EVENT_SUBSCRIPTIONS).sort()).toEqual(Object.keys(eventSchemas).sort());
    expect([...manifest.webhooks.events].sort()).toEqual(subscribedEventNames());
    expect(manifest.webhooks.events).toEqual(expect.arrayContaining(['AppInstall', 'AppUninstall', 'LCEmailStats']));
  });

  it('when the scopes are listed, then they are exactly those the called endpoints, the subscribed events and the marketplace modules need', () => {
    expect([...manifest.scopes].sort()).toEqual([...new Set([...endpointScopes(), ...eventScopes(), ...moduleScopes()])].sort());
    expect(manifest.scopes).not.toContain('users.readonly');
  });

  it('when the server code is read, then every registered endpoint is called somewhere and no HighLevel path is written outside the registry', () => {
    const sources = serverSources().filter((s) => !s.file.endsWith(path.join('highlevel', 'endpoints.ts')));
    for (const name of Object.keys(HIGHLEVEL_ENDPOINTS)) {
      expect({ name, used: sources.some((s) => s.text.includes(`HIGHLEVEL_ENDPOINTS.${name}`)) }).toEqual({ name, used: true });
    }
    // A literal HighLevel API path in server code would be a call site bypassing the registry (and its scope).
    const prefixes = ['/oauth/token', '/oauth/locationToken', '/oauth/installedLocations', '/conversations/', '/locations/', '/users/', '/voice-ai/', '/phone-system/'];
    const literal = new RegExp(`['\`](${prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})`);
    const code = (text: string) => text.split('\n').filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)).join('\n');
    expect(sources.filter((s) => literal.test(code(s.text))).map((s) => path.relative(process.cwd(), s.file))).toEqual([]);
  });

  it('when a call is checked against the registry, then registered paths (with parameters) pass and others do not', () => {
    expect(isDeclaredEndpoint('GET', '/conversations/messages/export')).toBe(true);
    expect(isDeclaredEndpoint('GET', '/oauth/installedLocations?companyId=x')).toBe(true);
    expect(isDeclaredEndpoint('POST', '/oauth/installedLocations')).toBe(false);
    expect(isDeclaredEndpoint('GET', '/users/')).toBe(false);
  });

  it('when a manifest has a bad field, then loading fails naming the file and the field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meterbridge-manifest-'));
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify({ ...manifest, scopes: ['locations.readonly', 'Not A Scope'] }));
    expect(() => loadManifest(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid: scopes\\.1`));
    writeFileSync(file, '{ not json');
    expect(() => loadManifest(file)).toThrow(/cannot be read as JSON/);
    expect(MANIFEST_PATH.endsWith('manifest.json')).toBe(true);
  });
});
