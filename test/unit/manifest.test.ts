import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventSchemas } from '../../server/highlevel/webhook-events';
import { loadManifest, MANIFEST_PATH } from '../../server/highlevel/manifest';

describe('manifest.json', () => {
  const manifest = loadManifest();

  it('when the manifest is read at boot, then it validates', () => {
    expect(manifest.name).toBe('Meterbridge');
    expect(manifest.oauth.redirectPath).toBe('/oauth/callback');
    expect(manifest.webhooks.path).toBe('/webhooks/highlevel');
  });

  it('when compared with the intake, then every subscribed event has a handler and every handled event is subscribed', () => {
    expect([...manifest.webhooks.events].sort()).toEqual(Object.keys(eventSchemas).sort());
  });

  it('when the scopes are listed, then they cover what the app calls: messages, locations, OAuth, Voice AI, users, phone numbers, workflow actions, SaaS mode', () => {
    expect([...manifest.scopes].sort()).toEqual(
      [
        'conversations/message.readonly',
        'locations.readonly',
        'oauth.readonly',
        'oauth.write',
        'users.readonly',
        'voice-ai-dashboard.readonly',
        'phonenumbers.read',
        'workflows.readonly',
        'saas/company.read',
      ].sort(),
    );
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
