/**
 * The periodic alert checks (server/jobs/scheduled-jobs.ts runs them):
 * - usage/spend thresholds, every minute: per sub-account, the thresholds in force (its own override per metric, else
 *   the agency default) against the current billing period's usage (units per metric) and estimated charges (`spend`,
 *   cents) as the dashboard computes them (server/reporting/period-charges.ts: the UTC calendar month). A periodic job
 *   rather than a hook in the inbox processor, so the intake's hot path gains no query; a crossing is alerted within
 *   a minute, once per period (the dedupe key names the period).
 * - cards, daily: every rebilled sub-account with a Stripe customer, its default payment method read from Stripe
 *   (server/payments/cards.ts): none → "card missing" (once a month), expiring this month or next, or expired →
 *   "card expiring" (once per card and expiry).
 */
import Decimal from 'decimal.js';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { subAccounts, usageAlertThresholds } from '../../models/schema';
import { readCard } from '../payments/cards';
import { currentPeriodChargesOf } from '../reporting/period-charges';
import { currentPeriod, currentPeriodUsage } from '../reporting/usage-queries';
import { alertUsageThreshold } from './events';
import { sweepOperations } from './operations-sweep';
import { raiseAlert } from './raise';

/** How many alerts a check raised. */
export interface CheckRun {
  checked: number;
  raised: number;
}

/** The checks, over the database and the agencies' Stripe clients (null when an agency has none connected). */
export function createAlertChecks(deps: { db: Database; stripeIfConnected: (companyId: string) => Promise<Stripe | null>; logger: Logger }) {
  const { db } = deps;

  return {
    /** Rejected meter batches and reconciliation drift (server/alerts/operations-sweep.ts). */
    sweepOperations: () => sweepOperations(db),

    /** Raises a usage alert for each threshold crossed this period and not alerted yet. */
    async checkUsage(now = new Date()): Promise<CheckRun> {
      const thresholds = await db.select().from(usageAlertThresholds);
      const run: CheckRun = { checked: 0, raised: 0 };
      for (const companyId of new Set(thresholds.map((t) => t.companyId))) {
        const own = thresholds.filter((t) => t.companyId === companyId);
        const subs = await db
          .select({ locationId: subAccounts.locationId, name: subAccounts.name })
          .from(subAccounts)
          .where(and(eq(subAccounts.companyId, companyId), eq(subAccounts.status, 'active')));
        const usage = new Map((await currentPeriodUsage(db, companyId, subs.map((s) => s.locationId), now)).items.map((i) => [i.locationId, i.metrics]));
        const periodStart = currentPeriod(now).start;
        // Spend: every sub-account's estimate in one batch (period-charges.ts), only when a spend limit exists.
        const spend = own.some((t) => t.metric === 'spend') ? await currentPeriodChargesOf(db, companyId, subs.map((s) => s.locationId), now) : new Map<string, never>();
        for (const sub of subs) {
          const limits = new Map(own.filter((t) => t.locationId === null).map((t) => [t.metric, t.limitValue]));
          for (const t of own) if (t.locationId === sub.locationId) limits.set(t.metric, t.limitValue);
          for (const [metric, limit] of limits) {
            run.checked += 1;
            let used: string;
            let currency: string | undefined;
            if (metric === 'spend') {
              const charges = spend.get(sub.locationId);
              used = charges?.estimatedTotalCents ?? '0';
              currency = charges?.currency;
            } else {
              used = usage.get(sub.locationId)?.find((m) => m.metric === metric)?.quantity ?? '0';
            }
            if (new Decimal(used).lt(limit)) continue;
            const raised = await alertUsageThreshold(db, { companyId, locationId: sub.locationId, subAccountName: sub.name, metric, used, limit: new Decimal(limit).toString(), periodStart, currency });
            if (raised.created) run.raised += 1;
          }
        }
      }
      return run;
    },

    /** Raises "card missing" / "card expiring" for rebilled sub-accounts, from Stripe's default payment methods. */
    async checkCards(now = new Date()): Promise<CheckRun> {
      const subs = await db
        .select()
        .from(subAccounts)
        .where(and(eq(subAccounts.status, 'active'), eq(subAccounts.rebillingEnabled, true), isNotNull(subAccounts.stripeCustomerId), sql`${subAccounts.billingStatus} <> 'paused'`));
      const run: CheckRun = { checked: 0, raised: 0 };
      const month = now.toISOString().slice(0, 7);
      for (const sub of subs) {
        const stripe = await deps.stripeIfConnected(sub.companyId);
        if (!stripe) continue;
        run.checked += 1;
        const who = sub.name ?? sub.locationId;
        const base = { companyId: sub.companyId, locationId: sub.locationId };
        try {
          const card = await readCard(stripe, sub.stripeCustomerId!, sub.stripeSubscriptionId);
          let raised = null;
          if (card.status === 'no_card') {
            raised = await raiseAlert(db, {
              ...base, kind: 'card_missing', dedupeKey: `card_missing:${sub.locationId}:${month}`, title: `No card on file: ${who}`,
              message: 'Stripe has no default payment method for this billed sub-account: its next invoice cannot be charged. Send the client the card link.',
              data: { reason: 'missing', subAccountName: sub.name, stripeCustomerId: sub.stripeCustomerId },
            });
          } else if (card.status === 'card_on_file' && (card.expiringSoon || card.expired)) {
            raised = await raiseAlert(db, {
              ...base, kind: 'card_expiring', dedupeKey: `card_expiring:${card.paymentMethodId}:${card.expYear}-${card.expMonth}`,
              title: `Card ${card.expired ? 'expired' : 'expiring'}: ${who}`,
              message: `The card ${card.brand ?? ''} •••• ${card.last4 ?? ''} ${card.expired ? 'expired' : 'expires'} at the end of ${card.expMonth}/${card.expYear}.`,
              data: { reason: card.expired ? 'expired' : 'expiring', subAccountName: sub.name, brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear },
            });
          }
          if (raised?.created) run.raised += 1;
        } catch (err) {
          deps.logger.warn({ err, locationId: sub.locationId }, 'card check failed for a sub-account; the next run tries again');
        }
      }
      return run;
    },
  };
}

export type AlertChecks = ReturnType<typeof createAlertChecks>;
