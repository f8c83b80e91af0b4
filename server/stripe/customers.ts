/**
 * The agency's Stripe customers, as Meterbridge shows and maps them to sub-accounts
 * (docs.stripe.com/api/customers).
 */
import type Stripe from 'stripe';
import { badRequest } from '../http/errors';
import { isResourceMissing } from './stripe-errors';

/** What Meterbridge shows of a customer: `id` `cus_…`; name and email as Stripe has them (null when unset). */
export interface CustomerSummary {
  id: string;
  name: string | null;
  email: string | null;
}

const summary = (c: Stripe.Customer): CustomerSummary => ({ id: c.id, name: c.name ?? null, email: c.email ?? null });

/** Quotes a value for Stripe's search query language: single quotes, with `\` and `'` escaped by a backslash. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Customers whose email or name contains `query`, newest first, at most `limit` (1–100), through
 * customers.search (docs.stripe.com/api/customers/search) with the query `email~'…' OR name~'…'` (search query
 * language: docs.stripe.com/search#search-query-language; `~` is a substring match and needs 3 characters or more,
 * so a shorter query matches exactly). Deleted customers are not returned. A query that is a customer id (`cus_…`)
 * returns that customer, found by customers.retrieve (search does not match ids).
 * Search is eventually consistent: a customer created in the last minute may be missing
 * (docs.stripe.com/search#data-freshness). An empty query returns [] without calling Stripe.
 *
 * @throws the stripe-node error (Stripe's message) when the search fails, e.g. where search is unavailable.
 */
export async function searchCustomers(stripe: Stripe, query: string, limit = 10): Promise<CustomerSummary[]> {
  const text = query.trim();
  if (!text) return [];
  // A typed `cus_…` id: Stripe's search fields are email and name, so the id is looked up directly
  // (docs.stripe.com/api/customers/retrieve); unknown or deleted → no match.
  if (/^cus_[A-Za-z0-9]+$/.test(text)) {
    const found = await retrieveCustomer(stripe, text);
    return found ? [found] : [];
  }
  const value = quoted(text);
  const op = text.length >= 3 ? '~' : ':';
  const result = await stripe.customers.search({
    query: `email${op}${value} OR name${op}${value}`,
    limit: Math.min(100, Math.max(1, Math.trunc(limit) || 10)),
  });
  return result.data.map(summary);
}

/** A customer to create for a sub-account. `email` is optional (HighLevel may have none). */
export interface NewCustomer {
  name: string;
  email?: string | null;
  /** HighLevel location (sub-account) id, kept in metadata `meterbridge_location_id`. */
  locationId: string;
  /** HighLevel company (agency) id, kept in metadata `meterbridge_company_id`. */
  companyId: string;
}

/**
 * Creates a customer (docs.stripe.com/api/customers/create) with the name, the email when given, and metadata
 * `meterbridge_location_id` / `meterbridge_company_id`. `idempotencyKey` (1–255 characters) makes a retry return the
 * customer the first attempt created instead of a second one; Stripe refuses it with other parameters while it
 * remembers it (at least 24 hours; docs.stripe.com/api/idempotent_requests).
 *
 * @throws AppError 400 `invalid_idempotency_key` for an empty or over-long key.
 * @throws the stripe-node error (Stripe's message) when Stripe refuses the customer (e.g. an invalid email).
 */
export async function createCustomer(stripe: Stripe, input: NewCustomer, idempotencyKey: string): Promise<CustomerSummary> {
  if (!idempotencyKey || idempotencyKey.length > 255) throw badRequest('invalid_idempotency_key', 'An idempotency key has 1 to 255 characters.');
  const name = input.name.trim();
  const email = input.email?.trim();
  const customer = await stripe.customers.create(
    {
      ...(name ? { name } : {}),
      ...(email ? { email } : {}),
      metadata: { meterbridge_location_id: input.locationId, meterbridge_company_id: input.companyId },
    },
    { idempotencyKey },
  );
  return summary(customer);
}

/**
 * The customer `id`, or null when it does not exist on this account or was deleted (Stripe answers a deleted
 * customer as `{ id, object: 'customer', deleted: true }`; an unknown id with 404 `resource_missing`;
 * docs.stripe.com/api/customers/retrieve).
 *
 * @throws the stripe-node error (Stripe's message) for any other failure.
 */
export async function retrieveCustomer(stripe: Stripe, id: string): Promise<CustomerSummary | null> {
  try {
    const customer = await stripe.customers.retrieve(id);
    return customer.deleted ? null : summary(customer);
  } catch (err) {
    if (isResourceMissing(err)) return null;
    throw err;
  }
}
