/**
 * What INSTALL, UNINSTALL, LocationCreate and LocationUpdate change, applied inside the intake transaction (no
 * network calls here): agencies and sub-accounts are created or revived, uninstalls stop new billing, and a bulk
 * (Company) install asks the install-sync job to fetch the sub-accounts from HighLevel. Every effect is an
 * idempotent upsert, and install/uninstall carry their timestamp, so deliveries converge in any order.
 */
import type { Executor } from '../../models/database';
import { applySubAccountLifecycle, requestInstallSync, upsertAgency, upsertSubAccount } from '../tenancy/accounts-repository';
import { markUninstalled } from './installation-repository';
import { installKind, type ActivityEvent } from './webhook-events';

/**
 * Applies a lifecycle event; other event types are left alone.
 * @param receivedAt used when the event carries no `timestamp`.
 */
export async function applyLifecycleEvent(tx: Executor, event: ActivityEvent, receivedAt: Date): Promise<void> {
  switch (event.type) {
    case 'INSTALL': {
      const at = event.timestamp ? new Date(event.timestamp) : receivedAt;
      await upsertAgency(tx, { companyId: event.companyId, name: event.companyName ?? null });
      if (installKind(event) === 'Location' && event.locationId) {
        await upsertSubAccount(tx, { locationId: event.locationId, companyId: event.companyId });
        await applySubAccountLifecycle(tx, { locationId: event.locationId }, 'active', at);
      } else {
        await requestInstallSync(tx, event.companyId);
      }
      return;
    }
    case 'UNINSTALL': {
      const at = event.timestamp ? new Date(event.timestamp) : receivedAt;
      const scope = event.locationId ? { locationId: event.locationId } : { companyId: event.companyId! };
      await applySubAccountLifecycle(tx, scope, 'uninstalled', at);
      await markUninstalled(tx, scope);
      return;
    }
    case 'LocationCreate':
    case 'LocationUpdate':
      await upsertAgency(tx, { companyId: event.companyId });
      await upsertSubAccount(tx, { locationId: event.id, companyId: event.companyId, name: event.name ?? null, email: event.email || null });
      return;
    default:
      return;
  }
}
