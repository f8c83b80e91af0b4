/**
 * Argument parsing for the developer replay tool (`npm run replay -- ...`), on Node's built-in `util.parseArgs`.
 * Pure: it reads no files and touches no network; `server/cli/replay.ts` acts on what this returns.
 */
import { parseArgs } from 'node:util';

/** Where `--url` points when it is not given: the webhook route of a service started locally with the default PORT. */
export const DEFAULT_WEBHOOK_URL = 'http://localhost:3000/webhooks/highlevel';

/** The usage text printed with `--help` (on stdout) and after every usage error (on stderr). */
export const USAGE = `Usage:
  npm run replay -- [--url URL] --key PRIVATE_KEY.pem [--fresh-ids] FILE_OR_DIR...
  npm run replay -- --new-key DIR

Signs each HighLevel-shaped JSON file with an Ed25519 private key (base64 signature in x-ghl-signature, as
HighLevel does) and POSTs it to the webhook route, printing one line per file: file, HTTP status, response body.
A directory stands for every *.json file inside it, in name order.

Options:
  --url URL       webhook endpoint (default ${DEFAULT_WEBHOOK_URL})
  --key FILE      Ed25519 private key, PEM (PKCS8), whose public half the server is configured with
  --fresh-ids     give each payload a new random webhookId before signing, so it counts as a new delivery
  --new-key DIR   write a new key pair to DIR/webhook-private.pem and DIR/webhook-public.pem, print how to
                  start the server with it, and exit
  -h, --help      print this text

Exit codes: 0 every delivery answered 2xx; 1 some delivery answered otherwise or could not be sent; 2 bad usage.`;

/**
 * What the command line asks for.
 * - `help`: print the usage text.
 * - `new-key`: generate a key pair into `dir` (a path as typed, relative to the working directory).
 * - `replay`: deliver `paths` (files or directories, as typed, in order) to `url`, signed with the PEM at `keyPath`;
 *   `freshIds` replaces each payload's `webhookId` with a new random UUID first.
 */
export type ReplayCommand =
  | { kind: 'help' }
  | { kind: 'new-key'; dir: string }
  | { kind: 'replay'; url: string; keyPath: string; freshIds: boolean; paths: string[] };

/** Thrown for a command line (or a file it names) that cannot be acted on; the message names the problem. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses the arguments after the script name (`process.argv.slice(2)`).
 * Only the shape is checked here (options known, values present, `--url` an http(s) URL); whether the files and
 * the key can be read is checked by the caller.
 * @throws UsageError for an unknown option, a missing option value, no files, a missing `--key`, a bad `--url`,
 *   or `--new-key` combined with replay arguments.
 */
export function parseReplayArgs(argv: string[]): ReplayCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        'fresh-ids': { type: 'boolean' },
        'new-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs throws TypeError with an ERR_PARSE_ARGS_* code; its message already names the option.
    throw new UsageError(oneLine(err instanceof Error ? err.message : String(err)));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };

  if (values['new-key'] !== undefined) {
    const dir = values['new-key'];
    if (dir === '') throw new UsageError('--new-key needs a directory.');
    const extras = [
      ...(positionals.length > 0 ? ['files'] : []),
      ...(values.key !== undefined ? ['--key'] : []),
      ...(values.url !== undefined ? ['--url'] : []),
      ...(values['fresh-ids'] ? ['--fresh-ids'] : []),
    ];
    if (extras.length > 0) {
      throw new UsageError(`--new-key only generates a key pair and exits; it cannot be combined with ${extras.join(', ')}.`);
    }
    return { kind: 'new-key', dir };
  }

  if (values.key === undefined || values.key === '') {
    throw new UsageError('Missing --key: the Ed25519 private key (PEM) to sign with. Make one with --new-key DIR.');
  }
  if (positionals.length === 0) throw new UsageError('No files to replay: name one or more JSON files or directories.');
  const url = values.url ?? DEFAULT_WEBHOOK_URL;
  if (!isHttpUrl(url)) throw new UsageError(`--url ${JSON.stringify(url)} is not an http(s) URL.`);
  return { kind: 'replay', url, keyPath: values.key, freshIds: values['fresh-ids'] ?? false, paths: positionals };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
