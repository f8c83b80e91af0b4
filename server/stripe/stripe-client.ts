/**
 * Stripe clients per agency key. `STRIPE_API_URL` (e.g. http://127.0.0.1:12111) points every client at a local
 * Stripe double; it maps to stripe-node's host/port/protocol options.
 * stripe-node's own retries are off (maxNetworkRetries 0): the reporter decides what to resend, always with the
 * same meter event identifier, so outcomes stay explicit.
 */
import { createHash } from 'node:crypto';
import Stripe from 'stripe';

export interface StripeClientOptions {
  /** Base URL override; unset → https://api.stripe.com. */
  apiUrl?: string;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
}

/**
 * Returns a cached Stripe client for a secret key (cache keyed by a hash, never by the key itself).
 * With `stripeAccount` (`acct_…`) the client acts on that connected account: stripe-node sends every request with the
 * `Stripe-Account` header (docs.stripe.com/connect/authentication), which is how a Connect platform's key reaches a
 * Standard account connected through OAuth.
 */
export function createStripeClientFactory(options: StripeClientOptions = {}) {
  const cache = new Map<string, Stripe>();
  const target = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return (secretKey: string, stripeAccount?: string): Stripe => {
    const id = createHash('sha256').update(secretKey).update(`|${stripeAccount ?? ''}`).digest('hex');
    let client = cache.get(id);
    if (!client) {
      client = new Stripe(secretKey, {
        ...(stripeAccount ? { stripeAccount } : {}),
        maxNetworkRetries: 0,
        timeout: options.timeoutMs ?? 20_000,
        appInfo: { name: 'Meterbridge' },
        telemetry: false,
        ...(target
          ? {
              host: target.hostname,
              port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
              protocol: target.protocol.replace(':', '') as 'http' | 'https',
            }
          : {}),
      });
      cache.set(id, client);
    }
    return client;
  };
}

export type StripeClientFactory = ReturnType<typeof createStripeClientFactory>;
