/**
 * The payments use cases: a sub-account's card and held usage, the hosted pages (Checkout in setup mode, the
 * Customer Portal), invoices and the next invoice, the agency's card option, and the Stripe events that change them.
 * Stripe is read through a 30-second cache (read-cache.ts) that webhook events about the customer clear; every
 * next-invoice preview and every card read is also stored, and kept fresh in the background, for the Overview and the
 * lists (preview-refresh.ts, card-refresh.ts).
 */
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { eq, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { selectRows, type Database } from '../../models/database';
import { agencies } from '../../models/schema';
import { AppError, notFound } from '../http/errors';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import { stripeCall } from '../billing-setup/pricing';
import { isResourceMissing } from '../stripe/stripe-errors';
import { findAgency, findSubAccount, findSubAccountByCustomer } from '../tenancy/accounts-repository';
import { billedWithoutCard, createCards, NO_CUSTOMER, type CardSummary } from './cards';
import { createCardRefresh } from './card-refresh';
import { completedSetup, createSetupSession, makeDefaultForInvoices } from './checkout';
import { heldUsage, locationsWithHeldUsage } from './held-usage';
import { listInvoices, nextInvoice, type InvoiceQuery } from './invoices';
import { openPortalSession } from './portal';
import { createPreviewRefresh } from './preview-refresh';
import { AGENCY_WIDE, createReadCache, type ReadCache } from './read-cache';
import type { hostedLinkResponse, paymentFlagsResponse, subAccountPaymentsResponse } from './schemas';
import { summaryOf } from './stored-cards';

type HostedLink = z.infer<typeof hostedLinkResponse>;

/** Events saying a payment method changed, besides customer.* (PAYMENT_WEBHOOK_EVENTS): the customer's card is read again. */
const CARD_EVENTS = new Set(['payment_method.attached', 'payment_method.detached', 'payment_method.updated', 'payment_method.automatically_updated', 'setup_intent.succeeded']);
const iso = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000).toISOString() : null);

export function createPayments(deps: {
  db: Database;
  stripeForAgency: StripeForAgency;
  appUrl: string;
  logger: Logger;
  cache?: ReadCache;
  /** Starts the sub-account's subscription (subscription-sync.ts), once a card arrives for an agency that requires one. */
  startSubscription?: (locationId: string) => Promise<unknown>;
  /** Asks the scheduler to run the invoice-preview refresh soon (preview-refresh.ts); must not throw. */
  nudgePreviews?: () => void;
  /** Asks the scheduler to run the card refresh soon (card-refresh.ts); must not throw. */
  nudgeCards?: () => void;
}) {
  const cache = deps.cache ?? createReadCache();
  const cards = createCards();
  const previews = createPreviewRefresh({ db: deps.db, stripeForAgency: deps.stripeForAgency, logger: deps.logger, nudge: deps.nudgePreviews });
  const storedCards = createCardRefresh({ db: deps.db, stripeForAgency: deps.stripeForAgency, logger: deps.logger, nudge: deps.nudgeCards });

  async function subAccountOrThrow(locationId: string) {
    const sub = await findSubAccount(deps.db, locationId);
    if (!sub) throw notFound(`No sub-account ${locationId}.`);
    return sub;
  }
  const withCustomer = async (locationId: string) => {
    const sub = await subAccountOrThrow(locationId);
    if (!sub.stripeCustomerId) throw new AppError(409, 'no_customer', 'Map the sub-account to a Stripe customer first.');
    return { ...sub, stripeCustomerId: sub.stripeCustomerId };
  };

  async function subscriptionNow(stripe: Stripe, companyId: string, customerId: string, id: string | null) {
    if (!id) return null;
    return cache.get(companyId, customerId, `subscription:${id}`, async () => {
      // A subscription Stripe no longer has (deleted, another account) is shown as none rather than failing the page.
      const s = await stripeCall(() => stripe.subscriptions.retrieve(id).catch((err) => (isResourceMissing(err) ? null : Promise.reject(err))));
      if (!s) return null;
      const periodEnd = s.items.data[0]?.current_period_end ?? null;
      return { id: s.id, status: s.status, cancelAtPeriodEnd: s.cancel_at_period_end, currentPeriodEnd: iso(periodEnd), endsAt: s.cancel_at_period_end ? iso(s.cancel_at ?? periodEnd) : iso(s.cancel_at) };
    });
  }

  /** The customer's invoices changed: its cached reads go and its stored previews are read again. */
  async function invoicesChanged(companyId: string, customerId: string): Promise<void> {
    cache.invalidateCustomer(companyId, customerId);
    await previews.requestRefresh(companyId, customerId);
  }

  /** What Stripe has for the customer changed (it, or its subscription): its stored card is read again too. */
  async function customerChanged(companyId: string, customerId: string): Promise<void> {
    await invoicesChanged(companyId, customerId);
    await storedCards.requestRefresh(companyId, { customerId });
  }

  return {
    cache,
    previews,
    cards: storedCards,
    customerChanged,
    requireCard: cards.requireCard,

    /** @throws AppError 404, 409 `stripe_not_connected`, 400/502 `stripe_error`. */
    async subAccountPayments(locationId: string): Promise<z.infer<typeof subAccountPaymentsResponse>> {
      const sub = await subAccountOrThrow(locationId);
      const agency = await findAgency(deps.db, sub.companyId);
      const stripe = sub.stripeCustomerId ? await deps.stripeForAgency(sub.companyId) : null;
      // Read live (through the cache) and stored for the lists and the Overview.
      const target = sub.stripeCustomerId ? { locationId, companyId: sub.companyId, customerId: sub.stripeCustomerId, subscriptionId: sub.stripeSubscriptionId } : null;
      const card = stripe && target ? await cache.get(target.companyId, target.customerId, `card:${target.subscriptionId ?? ''}`, () => storedCards.read(stripe, target)) : NO_CUSTOMER;
      const subscription = stripe ? await subscriptionNow(stripe, sub.companyId, sub.stripeCustomerId!, sub.stripeSubscriptionId) : null;
      return {
        locationId,
        stripeCustomerId: sub.stripeCustomerId,
        card,
        held: await heldUsage(deps.db, locationId),
        cardRequired: agency?.requireCardBeforeSubscription ?? false,
        subscription,
      };
    },

    /**
     * Card and held-usage flags for a page of the agency's list (at most 200 ids; ids of other agencies are left
     * out). Cards as stored (card-refresh.ts `current`): no Stripe call on the request unless a few were never read;
     * more never read are said to be being checked, one Stripe could not read carries Stripe's message instead.
     */
    async flags(companyId: string, locationIds: string[]): Promise<z.infer<typeof paymentFlagsResponse>> {
      const ids = [...new Set(locationIds)].slice(0, 200);
      if (ids.length === 0) return { items: [] };
      const rows = await selectRows<{ locationId: string; customer: string | null; subscription: string | null }>(
        deps.db,
        sql`select location_id as "locationId", stripe_customer_id as customer, stripe_subscription_id as subscription from sub_accounts
            where company_id = ${companyId} and location_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
      );
      const held = await locationsWithHeldUsage(deps.db, rows.map((r) => r.locationId));
      const customers = rows.filter((r) => r.customer).map((r) => r.locationId);
      const stored = customers.length ? await storedCards.current(companyId, customers) : { rows: [], stripeError: null };
      const cardOf = new Map(stored.rows.map((c) => [c.locationId, c]));
      const items = rows.map((r) => {
        const row = cardOf.get(r.locationId);
        const card: CardSummary | null = row && !stored.stripeError ? summaryOf(row) : null;
        const error = r.customer ? (stored.stripeError ?? row?.lastError ?? null) : null;
        const checkedAt = card && row?.fetchedAt ? row.fetchedAt.toISOString() : null;
        return { locationId: r.locationId, card, billedWithoutCard: billedWithoutCard(r.subscription, card), hasHeldUsage: held.has(r.locationId), error, checking: Boolean(r.customer) && !card && !error, checkedAt };
      });
      return { items };
    },

    /** A Checkout page (setup mode) where the client adds or changes the card. @throws 404, 409 `no_customer`, Stripe errors. */
    async cardLink(locationId: string): Promise<HostedLink> {
      const sub = await withCustomer(locationId);
      const agency = await findAgency(deps.db, sub.companyId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      const session = await createSetupSession(stripe, {
        customerId: sub.stripeCustomerId, locationId, companyId: sub.companyId, currency: agency?.currency ?? 'usd', appUrl: deps.appUrl });
      return { url: session.url, expiresAt: iso(session.expiresAt), kind: 'checkout_setup' };
    },

    /** A Customer Portal session (cards, invoices, receipts). @throws 404, 409 `no_customer`, Stripe errors. */
    async portalLink(locationId: string): Promise<HostedLink> {
      const sub = await withCustomer(locationId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      const session = await openPortalSession(deps.db, stripe, { companyId: sub.companyId, customerId: sub.stripeCustomerId, appUrl: deps.appUrl });
      return { url: session.url, expiresAt: null, kind: 'billing_portal' };
    },

    /** The sub-account's invoices, newest first. @throws 404, 409 `no_customer`, Stripe errors. */
    async invoices(locationId: string, query: InvoiceQuery) {
      const sub = await withCustomer(locationId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      const key = `invoices:${query.status ?? ''}:${query.startingAfter ?? ''}:${query.limit}`;
      return cache.get(sub.companyId, sub.stripeCustomerId, key, () =>
        listInvoices(stripe, { customerId: sub.stripeCustomerId, customers: new Map([[sub.stripeCustomerId, { locationId, name: sub.name }]]) }, query));
    },

    /** The next invoice as Stripe previews it, read live (through the cache) and stored for the Overview. @throws 404, Stripe errors. */
    async nextInvoice(locationId: string) {
      const sub = await subAccountOrThrow(locationId);
      if (!sub.stripeCustomerId || !sub.stripeSubscriptionId) return nextInvoice(null, { customerId: sub.stripeCustomerId, subscriptionId: sub.stripeSubscriptionId, flatFeePriceId: null });
      const agency = await findAgency(deps.db, sub.companyId);
      const stripe = await deps.stripeForAgency(sub.companyId);
      const target = { locationId, companyId: sub.companyId, customerId: sub.stripeCustomerId, subscriptionId: sub.stripeSubscriptionId };
      return cache.get(sub.companyId, sub.stripeCustomerId, `next:${sub.stripeSubscriptionId}`, () => previews.read(stripe, target, agency?.flatFeePriceId ?? null));
    },

    /** The agency's invoices (its mapped customers only), filtered by status. @throws 409 `stripe_not_connected`, Stripe errors. */
    async agencyInvoices(companyId: string, query: InvoiceQuery) {
      const stripe = await deps.stripeForAgency(companyId);
      const mapped = await selectRows<{ customer: string; locationId: string; name: string | null }>(
        deps.db,
        sql`select stripe_customer_id as customer, location_id as "locationId", name from sub_accounts where company_id = ${companyId} and stripe_customer_id is not null`,
      );
      const customers = new Map(mapped.map((m) => [m.customer, { locationId: m.locationId, name: m.name }]));
      const key = `agency-invoices:${query.status ?? ''}:${query.startingAfter ?? ''}:${query.limit}`;
      return cache.get(companyId, AGENCY_WIDE, key, () => listInvoices(stripe, { customers }, query));
    },

    async settings(companyId: string) {
      return { requireCardBeforeSubscription: (await findAgency(deps.db, companyId))?.requireCardBeforeSubscription ?? false };
    },

    async setSettings(companyId: string, input: { requireCardBeforeSubscription?: boolean }) {
      if (input.requireCardBeforeSubscription !== undefined) {
        await deps.db.update(agencies).set({ requireCardBeforeSubscription: input.requireCardBeforeSubscription, updatedAt: sql`now()` }).where(eq(agencies.companyId, companyId));
      }
      return this.settings(companyId);
    },

    /**
     * A verified Stripe event of the agency (server/stripe/payment-events.ts calls it first): any invoice.* or
     * customer.* event clears the customer's cached reads and asks for its stored previews to be read again, and a
     * customer.* event (customer.updated: a new default; customer.subscription.updated: the subscription's own default)
     * for its stored card too; payment_method.* and setup_intent.succeeded (CARD_EVENTS) ask for the card alone;
     * `checkout.session.completed` of a setup session for a mapped customer makes the saved card the customer's default
     * for invoices (and asks for its card), and starts the subscription an agency requiring a card was waiting for.
     * Each re-reads Stripe (the event is a hint).
     * @returns the sub-account a completed setup applied to, else null.
     * @throws the stripe-node error when Stripe cannot be read or updated (the webhook answers 5xx; Stripe retries).
     */
    async handleEvent(companyId: string, event: Stripe.Event, stripe: Stripe): Promise<{ locationId: string } | null> {
      const object = event.data.object as { id?: string; object?: string; customer?: string | { id: string } | null };
      const customer = object.object === 'customer' ? (object.id ?? null) : typeof object.customer === 'string' ? object.customer : (object.customer?.id ?? null);
      if (event.type.startsWith('invoice.')) {
        if (customer) await invoicesChanged(companyId, customer);
        return null;
      }
      if (event.type.startsWith('customer.')) {
        if (customer) await customerChanged(companyId, customer);
        return null;
      }
      if (CARD_EVENTS.has(event.type)) {
        // A detached payment method no longer names its customer: the event's previous attributes may, and the stored
        // cards showing it are marked too.
        const customerId = customer ?? (event.data as { previous_attributes?: { customer?: string | null } }).previous_attributes?.customer ?? null;
        if (customerId) cache.invalidateCustomer(companyId, customerId);
        await storedCards.requestRefresh(companyId, { customerId, paymentMethodId: object.object === 'payment_method' ? (object.id ?? null) : null });
        return null;
      }
      if (event.type !== 'checkout.session.completed' || !object.id) return null;
      const setup = await completedSetup(stripe, object.id);
      if (!setup) return null;
      const sub = await findSubAccountByCustomer(deps.db, companyId, setup.customerId);
      // Only a session Meterbridge made for this very sub-account (its metadata says so) changes the default card.
      if (!sub || sub.locationId !== setup.locationId) return null;
      await makeDefaultForInvoices(stripe, setup.customerId, setup.paymentMethodId);
      cache.invalidateCustomer(companyId, setup.customerId);
      await storedCards.requestRefresh(companyId, { customerId: setup.customerId });
      deps.logger.info({ companyId, locationId: sub.locationId, session: setup.sessionId }, 'card saved as the default for invoices');
      const agency = await findAgency(deps.db, companyId);
      if (agency?.requireCardBeforeSubscription && sub.rebillingEnabled && !sub.stripeSubscriptionId && !sub.stripeSubscriptionScheduleId && deps.startSubscription) {
        await deps.startSubscription(sub.locationId).catch((err: Error) => deps.logger.warn({ locationId: sub.locationId, reason: err.message }, 'starting the subscription after the card failed'));
      }
      return { locationId: sub.locationId };
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
