/**
 * One-off invoices (docs.stripe.com/invoicing/integration): create a draft (docs.stripe.com/api/invoices/create), add
 * invoice items to it (docs.stripe.com/api/invoiceitems/create, `pricing[price]` a one-time price, or `amount` +
 * `currency`), finalize (docs.stripe.com/api/invoices/finalize), pay (docs.stripe.com/api/invoices/pay), send
 * (docs.stripe.com/api/invoices/send), void (docs.stripe.com/api/invoices/void-invoice). The transitions Stripe
 * enforces: items only on a draft; draft → open by finalize only; pay and send only an open invoice (a paid one
 * cannot be paid again); `send_invoice` needs `days_until_due` (or `due_date`), and sending needs the customer's email.
 * Paying charges the customer's `invoice_settings.default_payment_method`: none is a 400; a test card id containing
 * `chargeDeclined` (Stripe's `pm_card_chargeDeclined`) is a 402 `card_error` / `card_declined`, and the invoice stays
 * open with `attempt_count` + 1; a payment makes a succeeded PaymentIntent (payment-intents.ts) listed in the invoice's
 * `payments`. Messages marked "approximate" are the stub's wording.
 * Invoices are read through invoices-coupons.ts (GET /v1/invoices/:id, list), from the same `state.invoices`.
 */
import { liveCustomer } from './customers';
import { chargeCard } from './payment-intents';
import type { Fake, Route, StripeJson } from './types';
import { bool, ID, integer, invalid, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, StripeFakeError } from './wire';

/** The one-off invoice routes. */
export function oneTimeInvoiceRoutes({ state }: Fake): Route[] {
  const invoiceById = (id: string) => {
    const invoice = state.invoices.get(id);
    if (!invoice) throw noSuch('invoice', id);
    return invoice;
  };
  const requireStatus = (invoice: StripeJson, wanted: string, message: string) => {
    if (invoice.status !== wanted) throw invalid(`${message} (approximate; invoice ${invoice.id} is ${invoice.status}).`);
  };
  const recompute = (invoice: StripeJson) => {
    const total = (invoice.lines.data as StripeJson[]).reduce((sum, line) => sum + (line.amount as number), 0);
    Object.assign(invoice, { subtotal: total, total, amount_due: total, amount_remaining: total - invoice.amount_paid });
  };

  return [
    {
      method: 'POST',
      pattern: /^\/v1\/invoices$/,
      resource: 'invoices',
      access: 'write',
      accepts: ['customer', 'collection_method', 'days_until_due', 'due_date', 'auto_advance', 'pending_invoice_items_behavior', 'description', 'metadata', 'automatic_tax', 'currency'],
      handle: ({ params }) => {
        const customer = liveCustomer(state, requireString(params, 'customer'));
        const collection = str(params.collection_method) ?? 'charge_automatically';
        if (!['charge_automatically', 'send_invoice'].includes(collection)) throw invalid(`Invalid collection_method: ${collection}`, 'collection_method');
        const days = integer(params.days_until_due, 'days_until_due', 0);
        if (collection === 'send_invoice' && days === undefined && params.due_date === undefined) throw missingParam('days_until_due');
        if (collection !== 'send_invoice' && days !== undefined) throw invalid('days_until_due can only be set when collection_method is send_invoice (approximate).', 'days_until_due');
        const id = newId('in');
        const invoice: StripeJson = {
          id,
          object: 'invoice',
          amount_due: 0,
          amount_paid: 0,
          amount_remaining: 0,
          attempt_count: 0,
          attempted: false,
          auto_advance: bool(params.auto_advance) ?? false,
          automatic_tax: { enabled: bool(obj(params.automatic_tax)?.enabled) ?? false, liability: null, status: null },
          collection_method: collection,
          created: now(),
          currency: str(params.currency) ?? 'usd',
          customer: customer.id,
          customer_email: customer.email ?? null,
          days_until_due: days ?? null,
          description: str(params.description) ?? null,
          due_date: null,
          hosted_invoice_url: null,
          lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
          livemode: false,
          metadata: mergeMetadata({}, params.metadata),
          number: null,
          parent: null,
          // Every invoice has a period (docs.stripe.com/api/invoices/object#invoice_object-period_start); one with no
          // subscription spans no time: both ends at its creation.
          period_end: now(),
          period_start: now(),
          status: 'draft',
          status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
          subtotal: 0,
          total: 0,
        };
        state.invoices.set(id, invoice);
        return { body: invoice };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/invoiceitems$/,
      resource: 'invoices',
      access: 'write',
      accepts: ['customer', 'invoice', 'pricing', 'amount', 'currency', 'description', 'metadata', 'quantity', 'tax_behavior'],
      handle: ({ params }) => {
        const customer = liveCustomer(state, requireString(params, 'customer'));
        const invoiceId = str(params.invoice);
        if (!invoiceId) throw invalid('The stub adds invoice items to a given draft invoice only: pass invoice.', 'invoice');
        const invoice = state.invoices.get(invoiceId);
        if (!invoice) throw noSuch('invoice', invoiceId, 'invoice', 400);
        if (invoice.customer !== customer.id) throw invalid(`Invoice ${invoiceId} belongs to another customer (approximate).`, 'invoice');
        requireStatus(invoice, 'draft', 'Invoice items can only be added to a draft invoice');
        const quantity = integer(params.quantity, 'quantity', 1) ?? 1;
        const priceId = str(obj(params.pricing)?.price);
        let unitAmount: number;
        let currency: string;
        let price: StripeJson | null = null;
        if (priceId) {
          price = state.prices.get(priceId) ?? null;
          if (!price) throw noSuch('price', priceId, 'pricing[price]', 400);
          if (!price.active) throw invalid('The price specified is inactive. This field only accepts active prices.', 'pricing[price]');
          if (price.type !== 'one_time') throw invalid('The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`.', 'pricing[price]');
          unitAmount = price.unit_amount;
          currency = price.currency;
        } else {
          const amount = integer(params.amount, 'amount', 0);
          if (amount === undefined) throw missingParam('amount');
          currency = str(params.currency) ?? '';
          if (!currency) throw missingParam('currency');
          unitAmount = amount;
        }
        if (invoice.lines.data.length > 0 && invoice.currency !== currency) throw invalid('All items of an invoice must share its currency (approximate).', 'currency');
        invoice.currency = currency;
        const item: StripeJson = {
          id: newId('ii'),
          object: 'invoiceitem',
          amount: unitAmount * quantity,
          currency,
          customer: customer.id,
          description: str(params.description) ?? price?.nickname ?? null,
          invoice: invoice.id,
          metadata: mergeMetadata({}, params.metadata),
          pricing: price ? { price_details: { price: price.id, product: price.product }, type: 'price_details', unit_amount_decimal: String(unitAmount) } : null,
          quantity,
        };
        invoice.lines.data.push({ id: newId('il'), object: 'line_item', amount: item.amount, currency, description: item.description, quantity, invoice: invoice.id, parent: { invoice_item_details: { invoice_item: item.id } } });
        recompute(invoice);
        return { body: item };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/invoices/${ID}/finalize$`),
      resource: 'invoices',
      access: 'write',
      accepts: ['auto_advance'],
      handle: ({ params }, id) => {
        const invoice = invoiceById(id);
        requireStatus(invoice, 'draft', 'This invoice is already finalized');
        const auto = bool(params.auto_advance);
        Object.assign(invoice, {
          status: invoice.amount_due === 0 ? 'paid' : 'open',
          auto_advance: auto ?? invoice.auto_advance,
          number: `MB-${String(state.invoices.size).padStart(4, '0')}`,
          hosted_invoice_url: `https://invoice.stripe.com/i/stub/${id}`,
          due_date: invoice.collection_method === 'send_invoice' ? now() + (invoice.days_until_due ?? 0) * 86_400 : null,
          status_transitions: { ...invoice.status_transitions, finalized_at: now() },
        });
        return { body: invoice };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/invoices/${ID}/pay$`),
      resource: 'invoices',
      access: 'write',
      accepts: ['off_session', 'payment_method', 'paid_out_of_band'],
      handle: (_ctx, id) => {
        const invoice = invoiceById(id);
        if (invoice.status === 'paid') throw invalid('Invoice is already paid.');
        requireStatus(invoice, 'open', 'Only an open invoice can be paid');
        const customer = liveCustomer(state, invoice.customer);
        const card = customer.invoice_settings?.default_payment_method as string | null | undefined;
        if (!card) throw invalid('This customer has no attached payment source or default payment method. Please consider adding a default payment method.');
        invoice.attempt_count += 1;
        invoice.attempted = true;
        if (card.includes('chargeDeclined')) {
          throw new StripeFakeError(402, { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
        }
        // The charge's PaymentIntent, as the invoice's payment (docs.stripe.com/api/invoice-payment/object).
        const intent = chargeCard(state, { customer: customer.id, amount: invoice.amount_due, currency: invoice.currency, paymentMethod: card, description: invoice.description, metadata: invoice.metadata });
        const payment = { id: newId('inpay'), object: 'invoice_payment', amount_paid: intent.amount, amount_requested: intent.amount, currency: intent.currency, created: now(), invoice: invoice.id, is_default: true, payment: { type: 'payment_intent', payment_intent: intent }, status: 'paid' };
        Object.assign(invoice, {
          payments: { object: 'list', data: [...(invoice.payments?.data ?? []), payment], has_more: false, url: `/v1/invoices/${invoice.id}/payments` },
          status: 'paid',
          amount_paid: invoice.amount_due,
          amount_remaining: 0,
          status_transitions: { ...invoice.status_transitions, paid_at: now() },
        });
        return { body: invoice };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/invoices/${ID}/send$`),
      resource: 'invoices',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const invoice = invoiceById(id);
        if (invoice.collection_method !== 'send_invoice') throw invalid('Only invoices with collection_method send_invoice can be sent (approximate).');
        requireStatus(invoice, 'open', 'Only an open invoice can be sent');
        if (!liveCustomer(state, invoice.customer).email) throw invalid('The customer has no email address, so the invoice cannot be sent (approximate).', 'customer');
        return { body: invoice };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/invoices/${ID}/void$`),
      resource: 'invoices',
      access: 'write',
      accepts: [],
      handle: (_ctx, id) => {
        const invoice = invoiceById(id);
        requireStatus(invoice, 'open', 'Only an open invoice can be voided');
        Object.assign(invoice, { status: 'void', status_transitions: { ...invoice.status_transitions, voided_at: now() } });
        return { body: invoice };
      },
    },
  ];
}
