/** The sub-account list's payment flags: billed without a usable card, card expiring soon, usage held back (no count: units of different metrics are never added up). */
import type { PaymentFlag } from '../api-types-payments';

export function PaymentBadges({ flag }: { flag: PaymentFlag | undefined }) {
  if (!flag) return null;
  return (
    <>
      {flag.billedWithoutCard ? (
        <span className="badge bad" data-testid="no-card" title="Subscribed, but Stripe has no usable card for this customer: its invoices cannot be charged.">
          Billed without a card
        </span>
      ) : null}
      {flag.card?.usable && flag.card.expiringSoon ? <span className="badge warn">Card expiring soon</span> : null}
      {flag.hasHeldUsage ? (
        <span className="badge bad" data-testid="held-badge" title="Usage kept back: no subscription would invoice it. Open the sub-account for the units per metric and the reason.">
          Usage held back
        </span>
      ) : null}
    </>
  );
}
