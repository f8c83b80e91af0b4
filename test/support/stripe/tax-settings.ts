/**
 * Stripe Tax settings (docs.stripe.com/api/tax/settings; OpenAPI GetTaxSettings / PostTaxSettings): one object per
 * account, `status` `pending` until the head office address is set, then `active`
 * (`status_details.pending.missing_fields` "includes the entry `head_office` when the status is `pending`", stripe-node
 * 23 `Tax.Settings`). A new account starts pending. Tests make it active with POST /v1/tax/settings (as a real
 * integration would) or by setting `stub.taxSettings` directly.
 *
 * The double guards these routes with the `account` grant: the restricted-key permission Stripe checks for tax
 * settings is not documented in a form the double can copy (approximate).
 */
import type { Fake, Route, StripeJson } from './types';
import { invalid, obj, str, type FormValue } from './wire';

declare module './types' {
  interface StripeStub {
    /** The account's Stripe Tax settings as GET /v1/tax/settings answers them; tests may replace or edit it. */
    taxSettings: StripeJson;
  }
}

/** A fresh account's settings: provider stripe, no default tax behavior, no head office, so `pending`. */
export function defaultTaxSettings(): StripeJson {
  return {
    id: 'tax_settings',
    object: 'tax.settings',
    defaults: { provider: 'stripe', tax_behavior: null, tax_code: null },
    head_office: null,
    livemode: false,
    status: 'pending',
    status_details: { pending: { missing_fields: ['head_office'] } },
  };
}

/** The answer's shape: the object without the double's internal `id`. */
const view = ({ id: _id, ...settings }: StripeJson) => settings;

/** The routes of tax settings. */
export function taxSettingsRoutes({ stub }: Fake): Route[] {
  function update(params: Record<string, FormValue>): StripeJson {
    const settings = stub.taxSettings;
    const defaults = obj(params.defaults);
    if (params.defaults !== undefined && !defaults) throw invalid('Invalid defaults: must be an object.', 'defaults');
    const behavior = str(defaults?.tax_behavior);
    if (behavior !== undefined) {
      if (!['inclusive', 'exclusive', 'inferred_by_currency'].includes(behavior)) {
        throw invalid('Invalid defaults[tax_behavior]: must be one of inclusive, exclusive, or inferred_by_currency', 'defaults[tax_behavior]');
      }
      settings.defaults = { ...settings.defaults, tax_behavior: behavior };
    }
    const taxCode = str(defaults?.tax_code);
    if (taxCode !== undefined) settings.defaults = { ...settings.defaults, tax_code: taxCode };
    if (params.head_office !== undefined) {
      const address = obj(obj(params.head_office)?.address);
      if (!address || !str(address.country)) throw invalid('Missing required param: head_office[address][country] (approximate).', 'head_office[address][country]', 'parameter_missing');
      const fields = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'];
      settings.head_office = { address: Object.fromEntries(fields.map((f) => [f, str(address[f]) || null])) };
    }
    // "All parameters are editable but none can be removed once set" (stripe-node 23, Tax.Settings update).
    const missing = settings.head_office ? [] : ['head_office'];
    settings.status = missing.length === 0 ? 'active' : 'pending';
    settings.status_details = missing.length === 0 ? { active: {} } : { pending: { missing_fields: missing } };
    return settings;
  }

  return [
    // docs.stripe.com/api/tax/settings/retrieve
    { method: 'GET', pattern: /^\/v1\/tax\/settings$/, resource: 'account', access: 'read', accepts: [], handle: () => ({ body: view(stub.taxSettings) }) },
    // docs.stripe.com/api/tax/settings/update
    {
      method: 'POST',
      pattern: /^\/v1\/tax\/settings$/,
      resource: 'account',
      access: 'write',
      accepts: ['defaults', 'head_office'],
      handle: ({ params }) => ({ body: view(update(params)) }),
    },
  ];
}
