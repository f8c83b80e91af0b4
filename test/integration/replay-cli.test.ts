/**
 * The replay tool against the real service over a real port: the service is configured with a public key that
 * the tool itself generated (`--new-key`), and the tool signs and POSTs the HighLevel fixtures with the private half.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { selectRows } from '../../models/database';
import { runReplay } from '../../server/cli/replay';
import { fixture, fixtureNames } from '../support/highlevel-fixtures';
import { startTestService, type TestService } from '../support/test-service';

const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures', 'highlevel', 'webhooks');
const fixtureFiles = fixtureNames.map((name) => path.join(FIXTURE_DIR, `${name}.json`));

/** Runs the tool, capturing its output lines. */
async function replay(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReplay(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

/** A result line split into its parts: `<file> <status> <json body>`. */
function parseLine(line: string): { file: string; status: number; body: Record<string, unknown> } {
  const match = /^(.+?) (\d{3}) (\{.*\})$/.exec(line);
  if (!match) throw new Error(`not a result line: ${line}`);
  return { file: match[1]!, status: Number(match[2]), body: JSON.parse(match[3]!) };
}

async function countEvents(): Promise<number> {
  const [row] = await selectRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from activity_events`);
  return row!.n;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meterbridge-replay-'));
  tempDirs.push(dir);
  return dir;
}

let t: TestService;
let url: string;
let keyDir: string;
let privatePath: string;

beforeAll(async () => {
  keyDir = tempDir();
  const generated = await replay(['--new-key', keyDir]);
  expect(generated.code).toBe(0);
  privatePath = path.join(keyDir, 'webhook-private.pem');
  const publicPem = readFileSync(path.join(keyDir, 'webhook-public.pem'), 'utf8');

  t = await startTestService({ HIGHLEVEL_WEBHOOK_PUBLIC_KEY: publicPem });
  const server = await t.service.listen(0);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/highlevel`;
});

afterAll(async () => {
  await t?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run replay against a running service', () => {
  it('when the fixtures are replayed with the key the server trusts, then each is answered 200 and stored once', async () => {
    const { code, out, err } = await replay(['--url', url, '--key', privatePath, ...fixtureFiles]);

    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toHaveLength(fixtureFiles.length);
    const results = out.map(parseLine);
    expect(results.map((r) => r.file)).toEqual(fixtureFiles);
    expect(results.map((r) => r.status)).toEqual(fixtureFiles.map(() => 200));
    expect(results.map((r) => r.body.status)).toEqual(fixtureFiles.map(() => 'accepted'));
    expect(results.map((r) => r.body.webhookId)).toEqual(fixtureNames.map((name) => fixture(name).webhookId));

    const rows = await selectRows<{ webhook_id: string }>(t.database.db, sql`select webhook_id from activity_events order by webhook_id`);
    expect(rows.map((r) => r.webhook_id)).toEqual(fixtureNames.map((name) => String(fixture(name).webhookId)).sort());
  });

  it('when the same fixtures are replayed again without --fresh-ids, then every answer says "duplicate" and nothing is added', async () => {
    await replay(['--url', url, '--key', privatePath, FIXTURE_DIR]); // delivered at least once, whatever ran before
    const before = await countEvents();

    const { code, out } = await replay(['--url', url, '--key', privatePath, FIXTURE_DIR]);

    expect(code).toBe(0);
    const results = out.map(parseLine);
    // A directory stands for its *.json files in file-name order ('sms-outbound-unicode-long.json' < 'sms-outbound.json').
    const inDirectoryOrder = fixtureNames.map((name) => `${name}.json`).sort().map((file) => path.join(FIXTURE_DIR, file));
    expect(results.map((r) => r.file)).toEqual(inDirectoryOrder);
    expect(results.map((r) => [r.status, r.body.status])).toEqual(fixtureFiles.map(() => [200, 'duplicate']));
    expect(await countEvents()).toBe(before);
  });

  it('when the fixtures are replayed with --fresh-ids, then each is "accepted" again as a new delivery', async () => {
    const before = await countEvents();

    const { code, out } = await replay(['--url', url, '--key', privatePath, '--fresh-ids', ...fixtureFiles]);

    expect(code).toBe(0);
    const results = out.map(parseLine);
    expect(results.map((r) => [r.status, r.body.status])).toEqual(fixtureFiles.map(() => [200, 'accepted']));
    for (const [i, name] of fixtureNames.entries()) {
      expect(results[i]!.body.webhookId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(results[i]!.body.webhookId).not.toBe(fixture(name).webhookId);
    }
    expect(await countEvents()).toBe(before + fixtureFiles.length);
  });

  it('when the key does not match the server, then every line is 401, nothing is stored and the exit code is 1', async () => {
    const otherDir = tempDir();
    expect((await replay(['--new-key', otherDir])).code).toBe(0);
    const before = await countEvents();

    const { code, out } = await replay(['--url', url, '--key', path.join(otherDir, 'webhook-private.pem'), '--fresh-ids', ...fixtureFiles]);

    expect(code).toBe(1);
    const results = out.map(parseLine);
    expect(results).toHaveLength(fixtureFiles.length);
    expect(results.map((r) => [r.status, (r.body.error as { code?: string } | undefined)?.code])).toEqual(
      fixtureFiles.map(() => [401, 'invalid_signature']),
    );
    expect(await countEvents()).toBe(before);
  });

  it('when one delivery is refused and the others accepted, then all are printed and the exit code is 1', async () => {
    const dir = tempDir();
    const notAnEvent = path.join(dir, 'array.json');
    writeFileSync(notAnEvent, '[1,2,3]');

    const { code, out } = await replay(['--url', url, '--key', privatePath, fixtureFiles[0]!, notAnEvent]);

    expect(code).toBe(1);
    expect(out.map(parseLine).map((r) => r.status)).toEqual([200, 400]);
  });
});

describe('npm run replay refuses bad usage with exit code 2', () => {
  it('when --key is missing, then it says so on stderr with the usage text and sends nothing', async () => {
    const before = await countEvents();

    const { code, out, err } = await replay(['--url', url, ...fixtureFiles]);

    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/missing --key/i);
    expect(err.join('\n')).toContain('Usage:');
    expect(await countEvents()).toBe(before);
  });

  it('when no files are named, then it says so', async () => {
    const { code, err } = await replay(['--url', url, '--key', privatePath]);
    expect(code).toBe(2);
    expect(err[0]).toMatch(/no files/i);
  });

  it('when a named file cannot be read, then it names the file and sends none of the others', async () => {
    const before = await countEvents();
    const missing = path.join(tempDir(), 'nope.json');

    const { code, out, err } = await replay(['--url', url, '--key', privatePath, fixtureFiles[0]!, missing]);

    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toContain(missing);
    expect(await countEvents()).toBe(before);
  });

  it('when the key is not an Ed25519 private key, then it names the key file', async () => {
    const publicPath = path.join(keyDir, 'webhook-public.pem');
    const publicAsKey = await replay(['--url', url, '--key', publicPath, ...fixtureFiles]);
    expect(publicAsKey.code).toBe(2);
    expect(publicAsKey.err[0]).toContain(publicPath);
    expect(publicAsKey.err[0]).toMatch(/public key/);

    const rsaPath = path.join(tempDir(), 'rsa.pem');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(rsaPath, rsa);
    const rsaAsKey = await replay(['--url', url, '--key', rsaPath, ...fixtureFiles]);
    expect(rsaAsKey.code).toBe(2);
    expect(rsaAsKey.err[0]).toContain(rsaPath);
    expect(rsaAsKey.err[0]).toMatch(/rsa private key/i);
  });

  it('when --new-key would overwrite an existing key pair, then it refuses and leaves the files alone', async () => {
    const before = readFileSync(privatePath, 'utf8');
    const { code, err } = await replay(['--new-key', keyDir]);
    expect(code).toBe(2);
    expect(err[0]).toMatch(/already exists/);
    expect(readFileSync(privatePath, 'utf8')).toBe(before);
  });
});

describe('npm run replay -- --new-key DIR', () => {
  it('when run alone, then it writes a usable key pair and prints how to start the server with it', async () => {
    const dir = path.join(tempDir(), 'keys');
    const { code, out, err } = await replay(['--new-key', dir]);

    expect(code).toBe(0);
    expect(err).toEqual([]);
    const publicPath = path.join(dir, 'webhook-public.pem');
    expect(out.join('\n')).toContain(`HIGHLEVEL_WEBHOOK_PUBLIC_KEY="$(cat ${publicPath})" npm start`);

    const privatePemPath = path.join(dir, 'webhook-private.pem');
    expect(statSync(privatePemPath).mode & 0o777).toBe(0o600);
    const privateKey = createPrivateKey(readFileSync(privatePemPath, 'utf8'));
    const publicKey = createPublicKey(readFileSync(publicPath, 'utf8'));
    expect(privateKey.asymmetricKeyType).toBe('ed25519');
    const body = Buffer.from('{"type":"OutboundMessage"}');
    expect(verify(null, body, publicKey, sign(null, body, privateKey))).toBe(true);
  });
});
