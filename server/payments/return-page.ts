/**
 * `GET /payments/return?outcome=card_saved|card_canceled|portal|top_up_paid|top_up_canceled`: where Stripe's hosted pages send the client back
 * (Checkout's `success_url` / `cancel_url`, the portal's `return_url`). A plain page saying what happened; the card
 * itself is applied from the `checkout.session.completed` webhook, never from this visit (anyone can open a URL).
 */
import { Router } from 'express';

const MESSAGES: Record<string, [string, string]> = {
  card_saved: ['Card saved', 'Thank you: your card is saved and will be used for your next invoices. You can close this tab and return to HighLevel.'],
  card_canceled: ['No card saved', 'Nothing was changed. You can close this tab and return to HighLevel, and add a card later.'],
  portal: ['Done', 'You can close this tab and return to HighLevel.'],
  top_up_paid: ['Top-up paid', 'Thank you: your payment is received. Your wallet shows the credit as soon as Stripe confirms it, usually within seconds. You can close this tab and return to HighLevel.'],
  top_up_canceled: ['No top-up', 'Nothing was charged. You can close this tab and return to HighLevel.'],
};

export function paymentsReturnRouter(): Router {
  return Router().get('/payments/return', (req, res) => {
    const [title, text] = MESSAGES[String(req.query.outcome)] ?? MESSAGES.portal!;
    res
      .status(200)
      .type('html')
      .set('cache-control', 'no-store')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Meterbridge</title></head><body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem"><h1>${title}</h1><p>${text}</p></body></html>`);
  });
}
