/**
 * Stripe's Customer Portal: configurations (docs.stripe.com/api/customer_portal/configurations: create, retrieve,
 * list with `is_default`) and sessions (docs.stripe.com/api/customer_portal/sessions/create). A session without
 * `configuration` uses the account's default one, which exists only once someone saved the portal settings in the
 * Dashboard (the double starts without one; a test adds it with `isDefault`); without either Stripe refuses it with
 * the message below (as reported by Stripe users, e.g. github.com/mozilla/fxa/issues/13245).
 */
import type { Fake, Route, StripeJson } from './types';
import { bool, byId, ID, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject } from './wire';
import { liveCustomer } from './customers';

const NO_DEFAULT =
  'You can’t create a portal session in test mode until you save your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.';

/** The Customer Portal routes. */
export function billingPortalRoutes({ state }: Fake): Route[] {
  const configurationById = byId(state.portalConfigurations, 'billing portal configuration');

  function createConfiguration(params: FormObject): StripeJson {
    const features = obj(params.features);
    if (!features) throw missingParam('features');
    const enabled = (name: string) => bool(obj(features[name])?.enabled) ?? false;
    const id = newId('bpc');
    const configuration: StripeJson = {
      id,
      object: 'billing_portal.configuration',
      active: true,
      business_profile: { headline: str(obj(params.business_profile)?.headline) ?? null, privacy_policy_url: null, terms_of_service_url: null },
      created: now(),
      default_return_url: str(params.default_return_url) || null,
      features: {
        customer_update: { allowed_updates: [], enabled: enabled('customer_update') },
        invoice_history: { enabled: enabled('invoice_history') },
        payment_method_update: { enabled: enabled('payment_method_update') },
        subscription_cancel: { enabled: enabled('subscription_cancel') },
        subscription_update: { enabled: enabled('subscription_update') },
      },
      is_default: false,
      livemode: false,
      metadata: mergeMetadata({}, params.metadata),
      name: str(params.name) || null,
      updated: now(),
    };
    state.portalConfigurations.set(id, configuration);
    return configuration;
  }

  return [
    {
      method: 'POST',
      pattern: /^\/v1\/billing_portal\/configurations$/,
      resource: 'billing_portal',
      access: 'write',
      accepts: ['features', 'business_profile', 'default_return_url', 'login_page', 'metadata', 'name'],
      handle: ({ params }) => ({ body: createConfiguration(params) }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1/billing_portal/configurations/${ID}$`), resource: 'billing_portal', access: 'read', accepts: [], handle: (_c, id) => ({ body: configurationById(id) }) },
    {
      method: 'GET',
      pattern: /^\/v1\/billing_portal\/configurations$/,
      resource: 'billing_portal',
      access: 'read',
      accepts: ['active', 'is_default', 'limit', 'starting_after', 'ending_before'],
      handle: ({ params }) => {
        const active = bool(params.active);
        const isDefault = bool(params.is_default);
        const items = [...state.portalConfigurations.values()].filter(
          (c) => (active === undefined || c.active === active) && (isDefault === undefined || c.is_default === isDefault),
        );
        return { body: list(items, params, '/v1/billing_portal/configurations') };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/billing_portal\/sessions$/,
      resource: 'billing_portal',
      access: 'write',
      accepts: ['customer', 'configuration', 'return_url', 'locale', 'flow_data', 'on_behalf_of'],
      handle: ({ params }) => {
        const customer = requireString(params, 'customer');
        liveCustomer(state, customer);
        const given = str(params.configuration);
        let configuration: StripeJson | undefined;
        if (given) {
          configuration = state.portalConfigurations.get(given);
          if (!configuration) throw noSuch('billing portal configuration', given, 'configuration', 400);
          if (!configuration.active) throw invalid(`The configuration ${given} is not active (approximate).`, 'configuration');
        } else {
          configuration = [...state.portalConfigurations.values()].find((c) => c.is_default && c.active);
          if (!configuration) throw invalid(NO_DEFAULT);
        }
        const returnUrl = str(params.return_url) ?? configuration.default_return_url;
        if (!returnUrl) throw invalid('return_url is required when the configuration has no default_return_url (approximate).', 'return_url', 'parameter_missing');
        const id = newId('bps');
        const session: StripeJson = {
          id,
          object: 'billing_portal.session',
          configuration: configuration.id,
          created: now(),
          customer,
          flow: null,
          livemode: false,
          locale: str(params.locale) ?? null,
          on_behalf_of: null,
          return_url: returnUrl,
          url: `https://billing.stripe.com/p/session/test_${id.slice(4)}`,
        };
        state.portalSessions.set(id, session);
        return { body: session };
      },
    },
  ];
}
