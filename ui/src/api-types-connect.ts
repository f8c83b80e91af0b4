/**
 * The page's types for "Connect with Stripe", inferred from the server's zod schemas (server/stripe/connect-schemas.ts,
 * type-only: nothing of the server is bundled).
 */
import type { z } from 'zod';
import type { stripeConnectInfo, stripeConnectStartResponse } from '../../server/stripe/connect-schemas';
import type { StripeConnection } from './api-types';

/** The Connect part of the Stripe status: offered?, how connected, revoked by the agency (billing held)? */
export type StripeConnectInfo = z.infer<typeof stripeConnectInfo>;
/** `POST /api/stripe/connect`: the link to open in a new tab, and until when it works. */
export type StripeConnectStart = z.infer<typeof stripeConnectStartResponse>;
/** The Stripe status as the server sends it since Connect. */
export type StripeConnectionWithConnect = StripeConnection & { connect?: StripeConnectInfo };
