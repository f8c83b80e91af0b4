/**
 * Stripe events the payments capability needs on the agency's webhook endpoint (server/billing-setup/stripe-connection.ts
 * adds them when it creates the endpoint; an endpoint made before is given them by the `stripe-webhook-events` job,
 * server/billing-setup/webhook-endpoint-sync.ts).
 * Stripe takes no partial wildcard such as `invoice.*` in `enabled_events` (docs.stripe.com/api/webhook_endpoints/create:
 * a list of event types, or `*` for all), so each invoice event that changes what the invoice list shows is named.
 */
export const PAYMENT_WEBHOOK_EVENTS = [
  'checkout.session.completed',
  // A wallet top-up paid on Checkout by a payment method that confirms later (server/wallets/checkout-top-ups.ts).
  'checkout.session.async_payment_succeeded',
  'invoice.created',
  'invoice.finalized',
  'invoice.updated',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice.overdue',
  'invoice.deleted',
  'invoice.payment_succeeded',
  // A card changed in the portal or the Dashboard, a subscription changed there (its default_payment_method too): the
  // cached card and preview go, and the stored card is read again (server/payments/card-refresh.ts).
  'customer.updated',
  'customer.subscription.updated',
  // A payment method added, removed or changed (by the client, the agency, or the card network's updater), a card
  // saved by a SetupIntent: the customer's stored card is read again.
  'payment_method.attached',
  'payment_method.detached',
  'payment_method.updated',
  'payment_method.automatically_updated',
  'setup_intent.succeeded',
] as const;
