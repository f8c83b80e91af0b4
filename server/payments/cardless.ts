/** The sub-accounts list's `no_card` filter, answered by the payments flags (Stripe reads, cached 30 s). */
import type { CardlessLookup } from '../billing-setup/sub-account-list';
import type { Payments } from './payments';

/** Sub-accounts among the ids whose Stripe customer has no usable card (none on file, expired, or customer deleted). */
export function cardlessLookup(payments: Payments): CardlessLookup {
  return async (companyId, locationIds) => {
    const found = new Set<string>();
    for (let i = 0; i < locationIds.length; i += 200) {
      const { items } = await payments.flags(companyId, locationIds.slice(i, i + 200));
      for (const f of items) if (f.card && !f.card.usable) found.add(f.locationId);
    }
    return found;
  };
}
