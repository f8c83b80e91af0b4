/**
 * Billing credit grants (docs.stripe.com/api/billing/credit-grant, object and create/retrieve/list/update/expire/void;
 * docs.stripe.com/billing/subscriptions/usage-based/billing-credits): prepaid or promotional credit a customer's
 * metered usage draws down at invoice finalization.
 * - create: `customer` (a live customer), `amount` `{type: 'monetary', monetary: {currency, value}}` (value a positive
 *   integer in the currency's smallest unit), `applicability_config.scope` either `price_type: 'metered'` or
 *   `prices[]` (`{id}` of metered prices; not both), `category` `paid` | `promotional` (Stripe defaults to `paid`),
 *   `effective_at` / `expires_at` (Unix seconds; expiry after the effective time), `name` (≤ 100 characters),
 *   `metadata`, `priority` (0–100, default 50);
 * - retrieve; list (`customer` required by Stripe), newest first; update (`expires_at`, `metadata`);
 * - `POST …/:id/expire` sets `expires_at` to now; `POST …/:id/void` sets `voided_at` — neither twice (approximate
 *   messages).
 * Grants in the scope's prices must share the grant's currency (approximate message). How credit is applied to an
 * invoice and what remains are in credit-balance.ts. Messages marked "approximate" are the double's wording.
 */
import { liveCustomer } from './customers';
import type { Fake, Route, StripeJson } from './types';
import { arr, byId, ID, integer, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject } from './wire';

/** The credit grant routes of one account double. */
export function creditGrantRoutes({ state }: Fake): Route[] {
  const grantById = byId(state.creditGrants, 'credit grant');
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/billing\/credit_grants$/,
      resource: 'billing_credits',
      access: 'write',
      accepts: ['customer', 'amount', 'applicability_config', 'category', 'effective_at', 'expires_at', 'metadata', 'name', 'priority'],
      handle: ({ params }) => {
        const customer = liveCustomer(state, requireString(params, 'customer'));
        const amount = monetaryAmount(params);
        const scope = scopeOf(state, params, amount.monetary.currency);
        const category = str(params.category) ?? 'paid';
        if (!['paid', 'promotional'].includes(category)) throw invalid(`Invalid category: must be one of paid or promotional`, 'category');
        const created = now();
        const effectiveAt = integer(params.effective_at, 'effective_at', 0) ?? created;
        const expiresAt = integer(params.expires_at, 'expires_at', 0) ?? null;
        if (expiresAt !== null && expiresAt <= effectiveAt) throw invalid('expires_at must be after effective_at (approximate).', 'expires_at');
        const priority = integer(params.priority, 'priority', 0) ?? 50;
        if (priority > 100) throw invalid('Invalid integer: priority must be between 0 and 100 (approximate).', 'priority');
        const name = str(params.name) ?? null;
        if (name !== null && name.length > 100) throw invalid('name must be at most 100 characters (approximate).', 'name');
        const grant: StripeJson = {
          id: newId('credgr_test'),
          object: 'billing.credit_grant',
          amount,
          applicability_config: { scope },
          category,
          created,
          customer: customer.id,
          effective_at: effectiveAt,
          expires_at: expiresAt,
          livemode: false,
          metadata: mergeMetadata({}, params.metadata),
          name,
          priority,
          test_clock: null,
          updated: created,
          voided_at: null,
        };
        state.creditGrants.set(grant.id, grant);
        return { body: grant };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/billing\/credit_grants$/,
      resource: 'billing_credits',
      access: 'read',
      accepts: ['customer', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => {
        const customer = requireString(params, 'customer');
        const grants = [...state.creditGrants.values()].filter((g) => g.customer === customer);
        return { body: list(grants, params, '/v1/billing/credit_grants') };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/billing/credit_grants/${ID}$`),
      resource: 'billing_credits',
      access: 'read',
      accepts: [],
      handle: (_ctx, id) => ({ body: grantById(id) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/credit_grants/${ID}$`),
      resource: 'billing_credits',
      access: 'write',
      accepts: ['expires_at', 'metadata'],
      handle: ({ params }, id) => {
        const grant = grantById(id);
        if (params.expires_at !== undefined) grant.expires_at = params.expires_at === '' ? null : integer(params.expires_at, 'expires_at', 0);
        grant.metadata = mergeMetadata(grant.metadata, params.metadata);
        grant.updated = now();
        return { body: grant };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/credit_grants/${ID}/expire$`),
      resource: 'billing_credits',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const grant = grantById(id);
        if (grant.voided_at) throw invalid(`Credit grant ${id} is voided and cannot be expired (approximate).`);
        if (grant.expires_at !== null && grant.expires_at <= now()) throw invalid(`Credit grant ${id} has already expired (approximate).`);
        Object.assign(grant, { expires_at: now(), updated: now() });
        return { body: grant };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/billing/credit_grants/${ID}/void$`),
      resource: 'billing_credits',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const grant = grantById(id);
        if (grant.voided_at) throw invalid(`Credit grant ${id} is already voided (approximate).`);
        Object.assign(grant, { voided_at: now(), updated: now() });
        return { body: grant };
      },
    },
  ];
}

/** `amount` as Stripe takes it: type monetary, a currency and a positive integer value. @throws StripeFakeError 400. */
function monetaryAmount(params: FormObject): { type: 'monetary'; monetary: { currency: string; value: number } } {
  const amount = obj(params.amount);
  if (!amount) throw missingParam('amount');
  if (str(amount.type) !== 'monetary') throw invalid('Invalid amount[type]: must be monetary', 'amount[type]');
  const monetary = obj(amount.monetary);
  if (!monetary) throw missingParam('amount[monetary]');
  const currency = str(monetary.currency)?.toLowerCase();
  if (!currency) throw missingParam('amount[monetary][currency]');
  if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, 'amount[monetary][currency]');
  if (monetary.value === undefined) throw missingParam('amount[monetary][value]');
  const value = integer(monetary.value, 'amount[monetary][value]', 1)!;
  return { type: 'monetary', monetary: { currency, value } };
}

/** `applicability_config.scope`: `price_type: 'metered'` or metered `prices` in the grant's currency, not both. */
function scopeOf(state: Fake['state'], params: FormObject, currency: string): Record<string, unknown> {
  const scope = obj(obj(params.applicability_config)?.scope);
  if (!scope) throw missingParam('applicability_config[scope]');
  const priceType = str(scope.price_type);
  const prices = arr(scope.prices);
  if (priceType !== undefined && prices !== undefined) throw invalid('You may only specify one of these parameters: price_type, prices.', 'applicability_config[scope]');
  if (priceType !== undefined) {
    if (priceType !== 'metered') throw invalid('Invalid applicability_config[scope][price_type]: must be metered', 'applicability_config[scope][price_type]');
    return { price_type: 'metered' };
  }
  if (!prices?.length) throw missingParam('applicability_config[scope][price_type]');
  return {
    prices: prices.map((p, i) => {
      const id = str(obj(p)?.id);
      const param = `applicability_config[scope][prices][${i}][id]`;
      if (!id) throw missingParam(param);
      const price = state.prices.get(id);
      if (!price) throw noSuch('price', id, param, 400);
      if (price.recurring?.usage_type !== 'metered') throw invalid(`Price ${id} is not a metered price: credit grants apply to metered prices only (approximate).`, param);
      if (price.currency !== currency) throw invalid(`Price ${id} is in ${price.currency}, the credit grant in ${currency} (approximate).`, param);
      return { id };
    }),
    price_type: null,
  };
}
