/**
 * Field types of the environment schema (server/config.ts): PEM public keys, URLs, empty-as-unset, CSP host
 * sources, AI sender lists. Each turns a bad value into a zod issue, which the config names with its variable.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { parseAiSenders, type AiSenders } from './metering/ai-messages';

/**
 * PEM text of a PUBLIC key of the given type; `\n` escapes (common in .env files) are unfolded. A private key is
 * refused (it would put a secret where a public value belongs), and so is the wrong algorithm (every signature
 * would then fail to verify).
 */
export const publicKeyPem = (type: 'ed25519' | 'rsa') =>
  z
    .string()
    .transform((value) => value.replace(/\\n/g, '\n'))
    .refine(
      (pem) => {
        if (!pem.includes('PUBLIC KEY-----')) return false;
        try {
          return createPublicKey(pem).asymmetricKeyType === type;
        } catch {
          return false;
        }
      },
      { message: `is not a PEM ${type === 'rsa' ? 'RSA' : 'Ed25519'} public key` },
    );

/** An http(s) URL, without trailing slashes. */
export const url = z.url({ protocol: /^https?$/ }).transform((value) => value.replace(/\/+$/, ''));
/** An empty or blank string counts as unset (so `.default()` applies). */
export const emptyAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** A CSP host source for `frame-ancestors`: scheme, host (optionally `*.` first) and optional port. */
export const FRAME_ANCESTOR = /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?\/?$/;

/** `parseAiSenders` as a zod transform: a bad entry becomes an issue naming it. */
export function aiSendersOrIssue(value: string, ctx: z.RefinementCtx): AiSenders {
  try {
    return parseAiSenders(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
}

/**
 * `RETENTION_DAYS`: whole days private text (message bodies, email bodies, transcripts, AI summaries) is kept in
 * stored events before the retention job redacts it (server/retention/). 1 to 3,650; default 30.
 */
export const retentionDays = z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(3650).default(30));

/**
 * `METRICS_TOKEN`: when set, `GET /metrics` asks for `Authorization: Bearer <token>`. 16 to 200 visible ASCII
 * characters (e.g. `openssl rand -hex 32`); unset leaves /metrics open (it carries counts only, no secrets).
 */
export const metricsToken = z.preprocess(
  emptyAsUnset,
  z.string().regex(/^[\x21-\x7e]{16,200}$/, 'must be 16 to 200 visible ASCII characters (e.g. `openssl rand -hex 32`)').optional(),
);
