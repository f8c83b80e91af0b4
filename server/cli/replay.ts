/**
 * The developer replay tool: signs HighLevel-shaped JSON files the way HighLevel does (Ed25519 over the exact
 * bytes sent, base64 in `x-ghl-signature`) and POSTs them to a running service's webhook route, so captured or
 * hand-written payloads can be pushed through the real intake. `--new-key DIR` makes the key pair to start the
 * service with (HighLevel's own private key is, of course, not available).
 *
 *   npm run replay -- --new-key .keys
 *   HIGHLEVEL_WEBHOOK_PUBLIC_KEY="$(cat .keys/webhook-public.pem)" npm start
 *   npm run replay -- --key .keys/webhook-private.pem test/fixtures/highlevel/webhooks
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import { parseReplayArgs, USAGE, UsageError } from './replay-args';

/** Where `runReplay` writes, one call per line (no trailing newline): `out` for results, `err` for problems and usage. */
export interface ReplayIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** File names `--new-key DIR` writes inside DIR: the PKCS8 private key (mode 0600) and the SPKI public key, both PEM. */
export const KEY_FILES = { privateKey: 'webhook-private.pem', publicKey: 'webhook-public.pem' } as const;

/** How long one delivery may take before it is reported as failed, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Longest non-JSON response body echoed on a result line, in characters. */
const MAX_TEXT_BODY = 300;

/**
 * Runs the replay tool with the arguments after the script name (see `USAGE` in ./replay-args).
 * With files: every file is read (and, with `--fresh-ids`, given a new `webhookId`) before anything is sent; then
 * each is signed and POSTed in order, one at a time, and `io.out` gets one line per file:
 * `<file as named> <HTTP status> <response body as compact JSON>` (`ERR <reason>` instead of status and body
 * when no answer came).
 * @returns the process exit code: 0 when every delivery was answered 2xx (or for `--help` / `--new-key`); 1 when
 *   any was answered otherwise or could not be sent; 2 for bad usage (no files, missing `--key`, an unreadable
 *   file or directory, a key that is not an Ed25519 private key, key files that already exist), reported on
 *   `io.err` with the usage text before anything is sent.
 * @throws nothing for the cases above; only a bug in this tool rejects the promise.
 */
export async function runReplay(argv: string[], io: ReplayIO): Promise<number> {
  try {
    const command = parseReplayArgs(argv);
    switch (command.kind) {
      case 'help':
        for (const line of USAGE.split('\n')) io.out(line);
        return 0;
      case 'new-key':
        writeKeyPair(command.dir, io);
        return 0;
      case 'replay': {
        const key = loadSigningKey(command.keyPath);
        const files = expandPaths(command.paths);
        const bodies = files.map((file) => ({ file, body: readBody(file, command.freshIds) }));
        return await deliverAll(command.url, key, bodies, io);
      }
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(err.message);
    io.err('');
    for (const line of USAGE.split('\n')) io.err(line);
    return 2;
  }
}

async function deliverAll(url: string, key: KeyObject, bodies: Array<{ file: string; body: Buffer }>, io: ReplayIO): Promise<number> {
  let failed = false;
  let unreachable = false;
  for (const { file, body } of bodies) {
    const signature = sign(null, body, key).toString('base64');
    try {
      const res = await axios.post<string>(url, body, {
        headers: { 'content-type': 'application/json', 'x-ghl-signature': signature },
        responseType: 'text',
        transformResponse: [(data: string) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        timeout: REQUEST_TIMEOUT_MS,
      });
      io.out(`${file} ${res.status} ${describeBody(res.data)}`);
      if (res.status < 200 || res.status > 299) failed = true;
    } catch (err) {
      failed = true;
      const code = (err as { code?: unknown }).code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') unreachable = true;
      io.out(`${file} ERR ${typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (unreachable) io.err(`Could not reach ${url}: is the service running there? (npm start; PORT sets its port)`);
  return failed ? 1 : 0;
}

/** A response body on one line: JSON re-serialised compactly, anything else with whitespace collapsed and cut short. */
function describeBody(data: unknown): string {
  const text = typeof data === 'string' ? data : data === undefined || data === null ? '' : String(data);
  if (text.trim() === '') return '(empty body)';
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > MAX_TEXT_BODY ? `${flat.slice(0, MAX_TEXT_BODY)}…` : flat;
  }
}

/** Loads the `--key` PEM; anything but an Ed25519 private key is a usage error naming the file. */
function loadSigningKey(keyPath: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read --key ${keyPath}: ${describeFsError(err)}.`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MISSING_PASSPHRASE') throw new UsageError(`--key ${keyPath} is encrypted; use an unencrypted PEM private key.`);
    if (pem.includes('PUBLIC KEY-----')) {
      throw new UsageError(`--key ${keyPath} is a public key; sign with the private half (${KEY_FILES.privateKey}).`);
    }
    throw new UsageError(`--key ${keyPath} is not a PEM private key.`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(
      `--key ${keyPath} is a ${key.asymmetricKeyType ?? 'non-Ed25519'} private key; x-ghl-signature needs Ed25519 (make one with --new-key DIR).`,
    );
  }
  return key;
}

/** Files as named, with each directory replaced by its *.json files in name order. */
function expandPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(given).isDirectory();
    } catch (err) {
      throw new UsageError(`Cannot read ${given}: ${describeFsError(err)}.`);
    }
    if (!isDirectory) {
      files.push(given);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(given, { withFileTypes: true })
        .filter((entry) => entry.name.endsWith('.json') && !entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    } catch (err) {
      throw new UsageError(`Cannot read directory ${given}: ${describeFsError(err)}.`);
    }
    if (names.length === 0) throw new UsageError(`Directory ${given} holds no *.json files.`);
    files.push(...names.map((name) => path.join(given, name)));
  }
  return files;
}

/**
 * The bytes to send for one file: exactly the file's bytes, or with `freshIds` the payload re-serialised compactly
 * with `webhookId` set to a new random UUID (added when absent). The signature is made over whatever is returned.
 */
function readBody(file: string, freshIds: boolean): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${describeFsError(err)}.`);
  }
  if (!freshIds) return bytes;
  let payload: unknown;
  try {
    payload = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UsageError(`${file} is not JSON, so --fresh-ids cannot give it a new webhookId.`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new UsageError(`${file} is not a JSON object, so --fresh-ids cannot give it a new webhookId.`);
  }
  return Buffer.from(JSON.stringify({ ...payload, webhookId: randomUUID() }));
}

/** `--new-key DIR`: writes a fresh Ed25519 pair (never over existing files) and prints how to use it. */
function writeKeyPair(dir: string, io: ReplayIO): void {
  const privatePath = path.join(dir, KEY_FILES.privateKey);
  const publicPath = path.join(dir, KEY_FILES.publicKey);
  for (const existing of [privatePath, publicPath].filter((p) => existsSync(p))) {
    throw new UsageError(`${existing} already exists; remove it or choose another directory (a server may be using that key).`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  let wrotePrivate = false;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    wrotePrivate = true;
    writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  } catch (err) {
    // Leave no half pair behind, but never remove a file this run did not create.
    if (wrotePrivate) rmSync(privatePath, { force: true });
    throw new UsageError(`Cannot write the key pair into ${dir}: ${describeFsError(err)}.`);
  }
  io.out(`Wrote ${privatePath} (signing key; keep it out of git) and ${publicPath}.`);
  io.out('Start the server with the public key:');
  io.out(`  HIGHLEVEL_WEBHOOK_PUBLIC_KEY="$(cat ${shellQuote(publicPath)})" npm start`);
  io.out('Then replay payloads signed with the private key:');
  io.out(`  npm run replay -- --key ${shellQuote(privatePath)} test/fixtures/highlevel/webhooks`);
}

function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    EEXIST: 'already exists',
  };
  if (typeof code === 'string' && known[code]) return known[code];
  return err instanceof Error ? err.message : String(err);
}

/** Quotes a path for a POSIX shell command line when it holds anything beyond safe characters. */
function shellQuote(value: string): string {
  return /^[\w./@%+=:,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

if (require.main === module) {
  // `npm run` starts scripts in the package root; resolve the user's relative paths where they typed them.
  if (process.env.npm_lifecycle_event === 'replay' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  runReplay(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line) }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
