/**
 * Stripe Connect OAuth (Standard accounts): the single-use `state` values of authorizations in progress. Part of
 * the Drizzle schema (models/schema.ts re-exports every part). The agency side of a Connect connection lives on
 * `agencies` (models/schema/tenancy.ts: `stripeConnectionType`, `stripeAccountId`, `stripeDeauthorizedAt`).
 *
 * A row is written when an agency admin starts "Connect with Stripe" and consumed (`usedAt`) by the first callback
 * that presents its nonce, so a state cannot be replayed (docs.stripe.com/connect/oauth-reference, `state`: "useful
 * for CSRF protection"). The nonce is a random value, not a secret that grants anything by itself: the state that
 * carries it is HMAC-signed (server/stripe/connect-oauth.ts).
 */
import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agencies } from './tenancy';

export const stripeConnectStates = pgTable(
  'stripe_connect_states',
  {
    /** 32 random bytes, base64url. */
    nonce: text('nonce').primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => agencies.companyId),
    /** The HighLevel user (SSO session) that started the authorization. */
    userId: text('user_id').notNull(),
    /** Their name, when the SSO payload carried one (for the audit log). */
    userName: text('user_name'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Set by the first callback that presents this state; a second one is refused. */
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('stripe_connect_states_company_idx').on(t.companyId)],
);
