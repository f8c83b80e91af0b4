/**
 * The card Stripe charges for a sub-account's invoices, and Stripe's hosted pages to change it: Checkout (add or
 * change the card) and the Customer Portal (cards, invoices, receipts). The client opens them in a new tab; the
 * agency copies the link to send. Used by the client's own view and the agency's sub-account page.
 */
import { useState } from 'react';
import type { Card, HostedLink, SubAccountPayments } from '../api-types-payments';
import { ErrorNotice, Loading } from '../components/States';
import { formatDay } from '../format';
import { paymentsApi } from '../payments-api';
import { CopyButton } from '../usage-api/CopyButton';

/** "Visa •••• 4242, expires 08/2031". */
export function describeCard(card: Card): string {
  if (card.status === 'no_customer') return 'No Stripe customer yet.';
  if (card.status === 'customer_deleted') return 'The Stripe customer was deleted.';
  if (card.status === 'no_card') return 'No card on file.';
  const brand = card.brand ? card.brand[0]!.toUpperCase() + card.brand.slice(1) : (card.type ?? 'Payment method');
  const expiry = card.expMonth && card.expYear ? `, expires ${String(card.expMonth).padStart(2, '0')}/${card.expYear}` : '';
  return `${brand}${card.last4 ? ` •••• ${card.last4}` : ''}${expiry}`;
}

/** The card's badge: on file, expiring soon, expired, or missing. */
export function CardBadge({ card }: { card: Card }) {
  if (card.status !== 'card_on_file') return <span className="badge warn">No card</span>;
  if (card.expired) return <span className="badge bad">Card expired</span>;
  if (card.expiringSoon) return <span className="badge warn">Card expiring soon</span>;
  return <span className="badge ok">Card on file</span>;
}

/**
 * @param audience `client`: buttons open Stripe's pages (only for the sub-account's admins, `canOpen`); `agency`:
 *   buttons make a link to copy and send.
 */
export function CardOnFile({ locationId, payments, audience, canOpen }: { locationId: string; payments: SubAccountPayments; audience: 'client' | 'agency'; canOpen: boolean }) {
  const [state, setState] = useState<{ busy?: HostedLink['kind']; error?: unknown; link?: HostedLink }>({});
  const { card } = payments;
  const make = async (kind: HostedLink['kind']) => {
    // A tab opened before the request keeps the browser's pop-up blocker out of the way.
    const tab = audience === 'client' ? window.open('', '_blank') : null;
    setState({ busy: kind });
    try {
      const link = kind === 'checkout_setup' ? await paymentsApi.cardLink(locationId) : await paymentsApi.portalLink(locationId);
      if (tab) tab.location.href = link.url;
      setState({ link });
    } catch (error) {
      tab?.close();
      setState({ error });
    }
  };
  const hasCustomer = card.status !== 'no_customer' && card.status !== 'customer_deleted';
  return (
    <section className="card" aria-labelledby="card-title" data-testid="card-on-file">
      <h2 id="card-title">
        Payment method <CardBadge card={card} />
      </h2>
      <p data-testid="card-description">{describeCard(card)}</p>
      {card.expiringSoon ? <p className="notice notice-error">This card expires at the end of {String(card.expMonth).padStart(2, '0')}/{card.expYear}: add a new one so the next invoices are paid.</p> : null}
      {card.status === 'no_card' && payments.cardRequired ? <p className="muted small">A card is needed before the subscription starts.</p> : null}
      {payments.subscription?.cancelAtPeriodEnd && payments.subscription.endsAt ? (
        <p className="muted small">The subscription ends on {formatDay(payments.subscription.endsAt)}: nothing is charged after that.</p>
      ) : null}
      {hasCustomer && canOpen ? (
        <p className="inline">
          <button type="button" className="button" disabled={state.busy !== undefined} onClick={() => make('checkout_setup')}>
            {card.status === 'card_on_file' ? (audience === 'client' ? 'Change card' : 'Link: change card') : audience === 'client' ? 'Add a card' : 'Link: add a card'}
          </button>
          <button type="button" className="button secondary" disabled={state.busy !== undefined} onClick={() => make('billing_portal')}>
            {audience === 'client' ? 'Cards, invoices and receipts' : 'Link: billing portal'}
          </button>
        </p>
      ) : null}
      {hasCustomer && !canOpen && audience === 'client' ? <p className="muted small">Ask an admin of your account to change the card.</p> : null}
      {state.busy ? <Loading label="Asking Stripe for the page…" /> : null}
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {state.link && audience === 'agency' ? (
        <div className="stack">
          <label htmlFor="hosted-link">{state.link.kind === 'checkout_setup' ? 'Send this link to the client (valid until ' + formatDay(state.link.expiresAt ?? '') + '):' : 'Portal link (short-lived: send it at once, or ask the client to open it from their page):'}</label>
          <input id="hosted-link" readOnly value={state.link.url} data-testid="hosted-link" />
          <CopyButton text={state.link.url} label="Copy link" />
        </div>
      ) : null}
      {state.link && audience === 'client' ? <p className="muted small">Stripe’s page opened in a new tab. Back here, reload to see the change.</p> : null}
    </section>
  );
}
