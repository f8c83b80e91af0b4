/**
 * Wire shapes of "Connect with Stripe" (zod only, no server imports: the settings page infers its types from here,
 * ui/src/api-types-connect.ts). None carries a secret.
 */
import { z } from 'zod';

/** The Connect part of the Stripe connection status (`GET /api/stripe/connection` → `connect`). */
export const stripeConnectInfo = z
  .object({
    /** The operator configured a Connect platform (STRIPE_CONNECT_*): the page offers "Connect with Stripe". */
    available: z.boolean(),
    /** How the agency is connected: a pasted key, Connect OAuth, or neither. */
    method: z.enum(['key', 'connect']).nullable(),
    /** Stripe told us the agency revoked Meterbridge's access: billing is held until it connects again. */
    deauthorized: z.boolean(),
    /** When (ISO 8601), or null. */
    deauthorizedAt: z.string().nullable(),
  })
  .describe('Stripe Connect (OAuth) state of the agency');

/** `POST /api/stripe/connect`: where to send the agency admin's browser, and until when the link works (ISO 8601). */
export const stripeConnectStartResponse = z.object({
  authorizeUrl: z.string().describe('Meterbridge URL that redirects to Stripe’s authorize page; open it in a new tab (Stripe’s page cannot be framed)'),
  expiresAt: z.string(),
});

/** The callback's JSON answer (`Accept: application/json`) on success. */
export const stripeConnectCallbackResponse = z.object({ connected: z.literal(true), accountId: z.string(), mode: z.enum(['test', 'live']) });
