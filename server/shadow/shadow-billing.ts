/**
 * Shadow mode use cases. A sub-account in shadow mode crosses thresholds like any other (its counters advance),
 * but its crossings become `shadow` meter reports that nothing sends to Stripe (server/metering/billing-rule.ts);
 * the agency sees them as "would bill" figures. Switching to live bills crossings from that moment on: the counters
 * already count the shadow units as billed, so nothing from the shadow period reaches Stripe unless the agency asks
 * to bill the backlog, which hands those reports, unchanged, to the reporter.
 *
 * Mode changes and billing the backlog take the agency's billing set-up lock exclusively, like a rule change: no
 * delivery computes a crossing while they commit. A delivery already past its mode check when the switch lands is
 * counted by the mode it read — once either way, never lost or doubled.
 */
import type { Database } from '../../models/database';
import { AppError, notFound } from '../http/errors';
import { findEffectiveRules } from '../metering/rules-repository';
import { findAgency } from '../tenancy/accounts-repository';
import { lockAgencyBillingSetup } from '../tenancy/tenancy-lock';
import {
  findBillingMode,
  promoteShadowReports,
  shadowUnitsByMonth,
  updateBillingMode,
  type BillingMode,
  type BillingModeState,
  type PromotedUnits,
} from './shadow-repository';
import { findSettings } from '../wallets/wallet-repository';
import { simulateWalletDraw, type WalletDraw } from '../wallets/wallet-draw';
import { monthlyDraws, wouldBill, type WouldBill } from './would-bill';

/**
 * The sub-account's would-bill figures with its mode and, for a prepaid wallet, what the wallet would have drawn
 * (server/wallets/wallet-draw.ts; null when the sub-account is billed postpaid).
 */
export type WouldBillReport = WouldBill & Pick<BillingModeState, 'locationId' | 'billingMode' | 'billingModeChangedAt'> & { wallet: WalletDraw | null };

/** What billing the backlog did: the reports handed to the reporter, per metric (empty when there was none). */
export interface BilledBacklog {
  locationId: string;
  stripeCustomerId: string;
  reports: number;
  metrics: PromotedUnits[];
}

/** Builds the shadow-mode use cases over a database. */
export function createShadowBilling({ db }: { db: Database }) {
  return {
    /**
     * Sets the sub-account's billing mode. Setting the mode it already has changes nothing (not even the time).
     * @returns the state after the change.
     * @throws AppError 404 when the sub-account is unknown.
     */
    async setBillingMode(locationId: string, mode: BillingMode): Promise<BillingModeState> {
      return db.transaction(async (tx) => {
        const sub = await findBillingMode(tx, locationId);
        if (!sub) throw notFound(`No sub-account ${locationId}.`);
        await lockAgencyBillingSetup(tx, sub.companyId, 'exclusive');
        await updateBillingMode(tx, locationId, mode);
        return (await findBillingMode(tx, locationId))!;
      });
    },

    /**
     * The would-bill figures: the shadow backlog per metric and month, priced with the rules in force today
     * (server/shadow/would-bill.ts says how tiers and rounding apply).
     * @throws AppError 404 when the sub-account is unknown.
     */
    async wouldBill(locationId: string): Promise<WouldBillReport> {
      const sub = await findBillingMode(db, locationId);
      if (!sub) throw notFound(`No sub-account ${locationId}.`);
      const months = await shadowUnitsByMonth(db, locationId);
      const rules = months.length > 0 ? await findEffectiveRules(db, locationId) : [];
      const agency = await findAgency(db, sub.companyId);
      const figures = wouldBill(months, rules, agency?.currency ?? 'usd');
      const settings = (await findSettings(db, sub.companyId, locationId)) ?? (await findSettings(db, sub.companyId, null));
      return {
        locationId,
        billingMode: sub.billingMode,
        billingModeChangedAt: sub.billingModeChangedAt,
        ...figures,
        wallet: settings?.billingMode === 'prepaid' ? simulateWalletDraw(settings, monthlyDraws(figures)) : null,
      };
    },

    /**
     * Bills the shadow backlog: in one transaction, every `shadow` report of the sub-account becomes `pending`,
     * billed to the sub-account's current Stripe customer; the reporter sends them like any crossing (each unit
     * once: a second call finds no shadow report and moves nothing). Works in either mode.
     * @throws AppError 404 unknown sub-account; 409 `no_customer` when the sub-account has no Stripe customer.
     */
    async billBacklog(locationId: string): Promise<BilledBacklog> {
      return db.transaction(async (tx) => {
        const found = await findBillingMode(tx, locationId);
        if (!found) throw notFound(`No sub-account ${locationId}.`);
        await lockAgencyBillingSetup(tx, found.companyId, 'exclusive');
        const sub = (await findBillingMode(tx, locationId, true))!;
        if (!sub.stripeCustomerId) {
          // Shown as is on the sub-account page: the owner's words, no API route.
          throw new AppError('no_customer', 'This sub-account has no Stripe customer yet: choose or create one in its Billing card, then bill the backlog.');
        }
        const metrics = await promoteShadowReports(tx, locationId, sub.stripeCustomerId);
        return { locationId, stripeCustomerId: sub.stripeCustomerId, reports: metrics.reduce((n, m) => n + m.reports, 0), metrics };
      });
    },
  };
}

export type ShadowBilling = ReturnType<typeof createShadowBilling>;
