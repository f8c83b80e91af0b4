/**
 * Invoices (docs.stripe.com/api/invoices: retrieve, list, create_preview) and coupons
 * (docs.stripe.com/api/coupons/retrieve), both seeded by tests (`seedInvoice`, `seedCoupon` in stripe-stub.ts). The
 * preview is computed from the subscription and the meter events the double counted (invoice-preview.ts).
 */
import type { Fake, Route, StripeJson } from './types';
import { previewInvoice } from './invoice-preview';
import { ID, integer, list, noSuch, obj, str, type FormValue } from './wire';

/**
 * An invoice as the API answers it. `payments` (its InvoicePayments, docs.stripe.com/api/invoice-payment/object) is
 * "not included by default": only with `expand[]=payments` or a path under it, and each attempt's
 * `payment.payment_intent` stays an id unless `payments.data.payment.payment_intent` is expanded
 * (docs.stripe.com/api/expanding_objects). Tests seed `payments.data[].payment.payment_intent` as full objects.
 */
export function invoiceView(invoice: StripeJson, expand: string[]): StripeJson {
  const { payments, ...rest } = invoice;
  if (!payments || !expand.some((e) => e === 'payments' || e.startsWith('payments.'))) return rest as StripeJson;
  const intents = expand.includes('payments.data.payment.payment_intent');
  const data = (payments.data as StripeJson[]).map((attempt) => {
    const intent = attempt.payment?.payment_intent;
    return intents || typeof intent !== 'object' ? attempt : { ...attempt, payment: { ...attempt.payment, payment_intent: intent.id } };
  });
  return { ...rest, id: invoice.id, object: 'invoice', payments: { object: 'list', data, has_more: false, url: `/v1/invoices/${invoice.id}/payments` } } as StripeJson;
}

/** The invoice and coupon routes (read only; tests seed them). */
export function invoiceAndCouponRoutes(fake: Fake): Route[] {
  const { state } = fake;
  return [
    // docs.stripe.com/api/invoices/create_preview (before the :id route, which would take "create_preview" as an id)
    {
      method: 'POST',
      pattern: /^\/v1\/invoices\/create_preview$/,
      resource: 'invoices',
      access: 'read',
      accepts: ['customer', 'subscription', 'automatic_tax', 'currency', 'discounts', 'preview_mode', 'subscription_details'],
      handle: ({ params }) => ({ body: previewInvoice(fake, params) }),
    },
    // docs.stripe.com/api/invoices/retrieve
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/invoices/${ID}$`),
      resource: 'invoices',
      access: 'read',
      accepts: [],
      handle: ({ expand }, id) => {
        const invoice = state.invoices.get(id);
        if (!invoice) throw noSuch('invoice', id);
        return { body: invoiceView(invoice, expand) };
      },
    },
    // docs.stripe.com/api/invoices/list
    {
      method: 'GET',
      pattern: /^\/v1\/invoices$/,
      resource: 'invoices',
      access: 'read',
      accepts: ['customer', 'subscription', 'status', 'limit', 'starting_after', 'ending_before', 'created', 'collection_method'],
      handle: ({ params }) => {
        const customer = str(params.customer);
        const subscription = str(params.subscription);
        const status = str(params.status);
        const created = createdFilter(params.created);
        const items = [...state.invoices.values()].filter(
          (i) =>
            created(i.created) &&
            (customer === undefined || i.customer === customer) &&
            (subscription === undefined || i.subscription === subscription || i.parent?.subscription_details?.subscription === subscription) &&
            (status === undefined || i.status === status),
        );
        return { body: list(items, params, '/v1/invoices') };
      },
    },
    // Coupons: coupons.ts
  ];
}

/**
 * `created` of a list (docs.stripe.com/api/invoices/list#list_invoices-created): an exact Unix time, or a map with
 * `gt`, `gte`, `lt`, `lte`. Absent: every invoice.
 */
function createdFilter(param: FormValue | undefined): (created: number) => boolean {
  if (param === undefined) return () => true;
  const exact = str(param);
  if (exact !== undefined) {
    const at = integer(exact, 'created');
    return (c) => c === at;
  }
  const range = obj(param) ?? {};
  const bound = (name: string) => integer(range[name], `created[${name}]`);
  const [gt, gte, lt, lte] = [bound('gt'), bound('gte'), bound('lt'), bound('lte')];
  return (c) => (gt === undefined || c > gt) && (gte === undefined || c >= gte) && (lt === undefined || c < lt) && (lte === undefined || c <= lte);
}
