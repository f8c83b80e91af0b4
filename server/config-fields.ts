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
