/**
 * Builds the money side for the composition root (server/main.ts): the money figures, the needs-attention list,
 * their routes, and the ids behind the sub-accounts list's `drift` and `no_card` filters.
 */
import type { Database } from '../../models/database';
import type { StripeForAgency } from '../billing-setup/stripe-for-agency';
import type { Payments } from '../payments/payments';
import { createAttention } from './attention';
import { createMoney } from './money';
import { moneyRoutes } from './routes';

export function wireMoney(deps: { db: Database; payments: Payments; stripeForAgency: StripeForAgency }) {
  const money = createMoney(deps);
  const attention = createAttention(deps);
  return { money, filterIds: attention.filterIds, routes: moneyRoutes({ db: deps.db, money, attention }) };
}
