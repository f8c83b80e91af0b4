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

/**
 * The Stripe Connect platform (Connect OAuth for Standard accounts, docs.stripe.com/connect/oauth-reference): all three
 * variables or none. `STRIPE_CONNECT_CLIENT_ID` is the platform's `ca_…` client id (Dashboard → Connect → Settings),
 * `STRIPE_CONNECT_SECRET_KEY` the platform's own secret key (`sk_…`; a restricted key cannot exchange OAuth codes),
 * `STRIPE_CONNECT_WEBHOOK_SECRET` the signing secret (`whsec_…`) of the platform's Connect webhook endpoint pointing at
 * `/webhooks/stripe-connect` ("Listen to events on Connected accounts", docs.stripe.com/connect/webhooks).
 */
export const STRIPE_CONNECT_ENV = {
  STRIPE_CONNECT_CLIENT_ID: z.preprocess(emptyAsUnset, z.string().regex(/^ca_[A-Za-z0-9]{8,}$/, 'must be a Stripe Connect client id (ca_…)').optional()),
  STRIPE_CONNECT_SECRET_KEY: z.preprocess(emptyAsUnset, z.string().regex(/^sk_(test|live)_[A-Za-z0-9]{8,}$/, 'must be the platform’s secret key (sk_test_… or sk_live_…)').optional()),
  STRIPE_CONNECT_WEBHOOK_SECRET: z.preprocess(emptyAsUnset, z.string().regex(/^whsec_[A-Za-z0-9]{8,}$/, 'must be a webhook signing secret (whsec_…)').optional()),
};

/** A configured Connect platform. Secrets: `secretKey` and `webhookSecret` are never logged or returned. */
export interface StripeConnectConfig {
  clientId: string;
  secretKey: string;
  webhookSecret: string;
  /** Where Stripe sends the agency back: `${APP_URL}/stripe/connect/callback`, registered in the platform's settings. */
  redirectUri: string;
}

/**
 * The Connect platform from the parsed variables, or null when none is set.
 * @returns a message naming what is wrong instead when only some are set, or when a live platform key would
 *   redirect to a plain-http APP_URL (Stripe requires HTTPS live redirect URIs, docs.stripe.com/connect/oauth-reference).
 */
export function stripeConnectConfig(
  e: { STRIPE_CONNECT_CLIENT_ID?: string; STRIPE_CONNECT_SECRET_KEY?: string; STRIPE_CONNECT_WEBHOOK_SECRET?: string },
  appUrl: string,
): StripeConnectConfig | null | string {
  const { STRIPE_CONNECT_CLIENT_ID: clientId, STRIPE_CONNECT_SECRET_KEY: secretKey, STRIPE_CONNECT_WEBHOOK_SECRET: webhookSecret } = e;
  if (!clientId && !secretKey && !webhookSecret) return null;
  if (!clientId || !secretKey || !webhookSecret) {
    const missing = Object.entries({ STRIPE_CONNECT_CLIENT_ID: clientId, STRIPE_CONNECT_SECRET_KEY: secretKey, STRIPE_CONNECT_WEBHOOK_SECRET: webhookSecret })
      .filter(([, v]) => !v)
      .map(([k]) => k);
    return `Stripe Connect needs STRIPE_CONNECT_CLIENT_ID, STRIPE_CONNECT_SECRET_KEY and STRIPE_CONNECT_WEBHOOK_SECRET together; missing ${missing.join(', ')}`;
  }
  if (secretKey.startsWith('sk_live_') && !appUrl.startsWith('https://')) {
    return 'APP_URL must be https:// with a live STRIPE_CONNECT_SECRET_KEY (Stripe requires HTTPS redirect URIs in live mode)';
  }
  return { clientId, secretKey, webhookSecret, redirectUri: `${appUrl}/stripe/connect/callback` };
}
