/**
 * HighLevel-shaped webhook payloads (copied from HighLevel's documented examples into test/fixtures) and a test
 * signing key pair standing in for HighLevel's: the service under test is configured with its public half.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'highlevel', 'webhooks');

/** Names of every webhook fixture, without `.json`. */
export const fixtureNames = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** A fixture's parsed JSON (a fresh copy each call). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
}

const OFFICIAL = path.join(__dirname, '..', 'fixtures', 'highlevel', 'official');

/**
 * Names of HighLevel's own example payloads, verbatim from GoHighLevel/highlevel-api-docs `docs/webhook events/*.md`
 * (which file and commit: `officialSources`), without `.json`.
 */
export const officialExampleNames = readdirSync(OFFICIAL)
  .filter((f) => f.endsWith('.json') && f !== 'SOURCES.json')
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** One of HighLevel's own examples, parsed (a fresh copy each call). */
export function officialExample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(OFFICIAL, `${name}.json`), 'utf8'));
}

/** `SOURCES.json`: the docs repository, its commit, and the doc page of each example. */
export const officialSources: { source_repo: string; commit: string; files: Record<string, { doc: string }> } = JSON.parse(
  readFileSync(path.join(OFFICIAL, 'SOURCES.json'), 'utf8'),
);

/** Test keys: Ed25519 for `x-ghl-signature`, RSA for the legacy `x-wh-signature`. */
export function makeSigningKeys() {
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (key: import('node:crypto').KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
  return {
    ed25519PublicPem: pem(ed25519.publicKey),
    rsaPublicPem: pem(rsa.publicKey),
    /** Base64 Ed25519 signature of the bytes, as HighLevel sends in x-ghl-signature. */
    signEd25519: (body: Buffer | string) => sign(null, Buffer.from(body), ed25519.privateKey).toString('base64'),
    /** Base64 RSA-SHA256 signature, as HighLevel sends in x-wh-signature. */
    signRsa: (body: Buffer | string) => sign('sha256', Buffer.from(body), rsa.privateKey).toString('base64'),
  };
}

export type SigningKeys = ReturnType<typeof makeSigningKeys>;
