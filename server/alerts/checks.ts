/**
 * The periodic alert checks (server/jobs/scheduled-jobs.ts runs them):
 * - usage/spend thresholds, every minute: per sub-account, the thresholds in force (its own override per metric, else
 *   the agency default) against the current billing period's usage (units per metric) and estimated charges (`spend`,
 *   cents) as the dashboard computes them (server/reporting/period-charges.ts: the UTC calendar month). A periodic job
 *   rather than a hook in the inbox processor, so the intake's hot path gains no query; a crossing is alerted within
 *   a minute, once per period (the dedupe key names the period).
 * - cards, daily: every rebilled sub-account with a Stripe customer, its default payment method as stored
 *   (server/payments/stored-cards.ts: read from Stripe by the card-summaries job, at most an hour old, at once after
 *   a webhook; no Stripe call here): none → "card missing" (once a month), expiring this month or next, or expired →
 *   "card expiring" (once per card and expiry). A card not read yet, or whose last read failed, is not judged
 *   (`unchecked`): the job reads it, a later run judges it.
 */
import Decimal from 'decimal.js';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import { subAccounts, usageAlertThresholds } from '../../models/schema';
import type { CardSummary } from '../payments/cards';
import { cardsOfAgency, summaryOf } from '../payments/stored-cards';
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

/** The card check's run: `unchecked`, sub-accounts whose card was not judged (not read yet, or Stripe refused it). */
export interface CardCheckRun extends CheckRun {
  unchecked: number;
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

    /** Raises "card missing" / "card expiring" for rebilled sub-accounts, from their stored default payment methods. */
    async checkCards(now = new Date()): Promise<CardCheckRun> {
      const subs = await db
        .select()
        .from(subAccounts)
        .where(and(eq(subAccounts.status, 'active'), eq(subAccounts.rebillingEnabled, true), isNotNull(subAccounts.stripeCustomerId), sql`${subAccounts.billingStatus} <> 'paused'`));
      const run: CardCheckRun = { checked: 0, raised: 0, unchecked: 0 };
      const month = now.toISOString().slice(0, 7);
      for (const companyId of new Set(subs.map((s) => s.companyId))) {
        // An agency without Stripe now is not judged on the cards it had.
        if (!(await deps.stripeIfConnected(companyId))) continue;
        const own = subs.filter((s) => s.companyId === companyId);
        const stored = new Map((await cardsOfAgency(db, companyId, own.map((s) => s.locationId))).map((c) => [c.locationId, c]));
        for (const sub of own) {
          const row = stored.get(sub.locationId);
          const card = row ? summaryOf(row, now) : null;
          if (!card) {
            run.unchecked += 1;
            continue;
          }
          run.checked += 1;
          if (await raiseCardAlert(sub, card, month)) run.raised += 1;
        }
      }
      if (run.unchecked > 0) deps.logger.info({ unchecked: run.unchecked }, 'cards not read from Stripe yet, or unreadable: not judged; a later run judges them');
      return run;
    },
  };

  /**
   * Raises the sub-account's card alert if its card calls for one: "card missing" once per `month` (YYYY-MM), "card
   * expiring" once per card and expiry. @returns whether an alert was created (not a repeat).
   */
  async function raiseCardAlert(sub: typeof subAccounts.$inferSelect, card: CardSummary, month: string): Promise<boolean> {
    const who = sub.name ?? sub.locationId;
    const base = { companyId: sub.companyId, locationId: sub.locationId };
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
    return raised?.created ?? false;
  }
}
