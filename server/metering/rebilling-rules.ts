/**
 * Use cases for rebilling rules: the agency's defaults and a sub-account's overrides.
 * "Every `threshold` of `metric` = 1 unit", reported to Stripe under `meterEventName` for the sub-account's
 * customer. Changing the threshold in force re-bases the counter so the unbilled remainder carries over.
 */
import { z } from 'zod';
import type { Database, Transaction } from '../../models/database';
import { badRequest, notFound } from '../http/errors';
import { setRulePrice } from './rules-repository';
import { findSubAccount } from '../tenancy/accounts-repository';
import { lockAgencyBillingSetup } from '../tenancy/tenancy-lock';
import {
  deleteRules,
  effectiveThresholds,
  findEffectiveRules,
  listDefaultRules,
  rulesOf,
  ruleForDirection,
  upsertRule,
  type EffectiveRule,
  type PricedRule,
  type RebillingRule,
  type RuleDirection,
} from './rules-repository';
import { requireKnownMetric } from './custom-metrics';
import { moveRemainder, rebaseCounter, settleCounter } from './billing-rule';
import { isDirectionalMetric } from './metrics';

/** Metrics counted outbound-only by default (an agency pays its carrier for what it sends). */
const OUTBOUND_BY_DEFAULT = new Set(['sms', 'sms_segments', 'mms', 'email', 'whatsapp', 'voicemail_drops']);

/** A positive decimal with at most 18 integer and 6 fractional digits, as a string or a number. */
const threshold = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((v) => /^\d{1,18}(\.\d{1,6})?$/.test(v) && Number(v) > 0, { message: 'must be a positive number with at most 6 decimals' });

/** Input for setting a rule. `direction` defaults to outbound for sms/email/whatsapp, both otherwise. */
export const ruleInputSchema = z.object({
  metric: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lowercase snake_case'),
  enabled: z.boolean().default(true),
  threshold,
  direction: z.enum(['outbound', 'inbound', 'both']).optional(),
  /** Stripe meter event name (max 100 chars); defaults to `meterbridge_<metric>`. */
  meterEventName: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits, _ . : -').optional(),
});
export type RuleInput = z.input<typeof ruleInputSchema>;

/** Which rule: the agency default (`locationId` null) or a sub-account's own. */
export type RuleScope = { companyId: string; locationId: null } | { locationId: string };

/** Builds the rules use cases over a database. Every change runs in one transaction under the agency's lock. */
export function createRebillingRules({ db }: { db: Database }) {
  return {
    /**
     * Sets (creates or replaces) a rule.
     * @throws AppError 400 on invalid input (`unknown_metric`: neither built in nor defined by the agency); 404 when
     *   the sub-account is unknown.
     */
    async setRule(scope: RuleScope, input: RuleInput): Promise<RebillingRule> {
      const { metric, enabled, direction, meterEventName, threshold } = parseRule(input);
      return db.transaction(async (tx) => {
        const { companyId, locationId } = await resolveScope(tx, scope);
        await requireKnownMetric(tx, companyId, metric);
        const rule: RebillingRule = {
          companyId,
          locationId,
          metric,
          enabled,
          threshold,
          direction: direction ?? (OUTBOUND_BY_DEFAULT.has(metric) ? 'outbound' : 'both'),
          meterEventName: meterEventName ?? `meterbridge_${metric}`,
        };
        // The metric's one rule in this scope: an inbound + outbound pair, or a rule of another direction, gives way.
        await withRebase(tx, companyId, metric, locationId ?? undefined, async () => {
          await deleteRules(tx, { companyId, locationId }, metric, (['both', 'inbound', 'outbound'] as const).filter((d) => d !== rule.direction));
          await upsertRule(tx, rule);
        });
        return rule;
      });
    },

    /**
     * Sets one rule of a directional metric's inbound + outbound pair in one scope, leaving the other direction's rule
     * as it is. A `both` rule in its place is split first: the other direction keeps the `both` rule's threshold,
     * meter and price, so it bills exactly as before; a sub-account's first own rule of the metric keeps the other
     * direction on the rule it inherited (copied, its price still the default's). Its meter event name defaults to `meterbridge_<metric>_<direction>`.
     * @throws AppError 400 `invalid_rule` (also for a metric HighLevel reports without a direction, or `both`),
     *   `unknown_metric`; 404 when the sub-account is unknown.
     */
    async setDirectionalRule(scope: RuleScope, input: RuleInput & { direction: 'inbound' | 'outbound' }): Promise<RebillingRule> {
      const { metric, enabled, direction, meterEventName, threshold } = parseRule(input);
      if (direction !== 'inbound' && direction !== 'outbound') throw badRequest('invalid_rule', 'direction: must be inbound or outbound');
      if (!isDirectionalMetric(metric)) throw badRequest('invalid_rule', `${metric} has no direction: HighLevel reports it neither inbound nor outbound.`);
      return db.transaction(async (tx) => {
        const { companyId, locationId } = await resolveScope(tx, scope);
        await requireKnownMetric(tx, companyId, metric);
        const owner = { companyId, locationId };
        const rule: RebillingRule = { companyId, locationId, metric, enabled, threshold, direction, meterEventName: meterEventName ?? `meterbridge_${metric}_${direction}` };
        await withRebase(tx, companyId, metric, locationId ?? undefined, async () => {
          const other = direction === 'inbound' ? 'outbound' : 'inbound';
          const own = await rulesOf(tx, owner, metric);
          const both = own.find((r) => r.direction === 'both');
          // A sub-account's first own rule for the metric would replace the default's for both directions: the other
          // direction keeps the rule it inherits (its threshold and meter; its price still the default's).
          const inherited = locationId !== null && own.length === 0 ? ruleForDirection(await rulesOf(tx, { companyId, locationId: null }, metric), other) : null;
          const keep = both ?? inherited;
          if (both) await deleteRules(tx, owner, metric, ['both']);
          if (keep) await upsertRule(tx, { companyId, locationId, metric, enabled: keep.enabled, threshold: keep.threshold, direction: other, meterEventName: keep.meterEventName });
          if (both?.stripePriceId && both.stripeMeterId && both.priceTerms) await setRulePriceOf(tx, owner, metric, other, both);
          await upsertRule(tx, rule);
        });
        return rule;
      });
    },

    /**
     * Removes a sub-account's override — every rule of the metric, or one direction of a pair; without its own rules
     * it inherits the agency default again. @returns false if none existed.
     */
    async removeSubAccountRule(locationId: string, metric: string, direction?: RuleDirection): Promise<boolean> {
      return db.transaction(async (tx) => {
        const { companyId } = await resolveScope(tx, { locationId });
        let removed = false;
        await withRebase(tx, companyId, metric, locationId, async () => {
          removed = (await deleteRules(tx, { companyId, locationId }, metric, direction ? [direction] : undefined)) > 0;
        });
        return removed;
      });
    },

    /** The rules in force for a sub-account, own or inherited, by metric. */
    effectiveRules: (locationId: string): Promise<EffectiveRule[]> => findEffectiveRules(db, locationId),

    /** The agency's default rules, with their prices. */
    defaultRules: (companyId: string): Promise<PricedRule[]> => listDefaultRules(db, companyId),
  };
}

export type RebillingRules = ReturnType<typeof createRebillingRules>;

/** @throws AppError 400 `invalid_rule` naming the bad fields. */
function parseRule(input: RuleInput) {
  const parsed = ruleInputSchema.safeParse(input);
  if (!parsed.success) throw badRequest('invalid_rule', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/** Copies a split `both` rule's Stripe meter, price and cost onto the rule of `direction`. */
async function setRulePriceOf(tx: Transaction, owner: { companyId: string; locationId: string | null }, metric: string, direction: RuleDirection, from: PricedRule) {
  await setRulePrice(tx, owner, metric, { stripeMeterId: from.stripeMeterId!, stripePriceId: from.stripePriceId!, priceTerms: from.priceTerms!, baseCostDecimal: from.baseCostDecimal }, direction);
}

async function resolveScope(tx: Transaction, scope: RuleScope): Promise<{ companyId: string; locationId: string | null }> {
  if ('companyId' in scope) {
    await lockAgencyBillingSetup(tx, scope.companyId, 'exclusive');
    return { companyId: scope.companyId, locationId: null };
  }
  const sub = await findSubAccount(tx, scope.locationId);
  if (!sub) throw notFound(`Sub-account ${scope.locationId} is not known to Meterbridge.`);
  await lockAgencyBillingSetup(tx, sub.companyId, 'exclusive');
  return { companyId: sub.companyId, locationId: sub.locationId };
}

/** Where the remainder of a rule that is gone carries to: the first rule in force of this order. */
const SUCCESSOR_ORDER: readonly RuleDirection[] = ['both', 'outbound', 'inbound'];

/**
 * Runs `change`, then re-bases every counter whose threshold in force it changed (with the old threshold) and bills at
 * once the whole new thresholds its carried remainder already holds. A counter whose rule is gone (a `both` rule
 * split, a pair merged, a direction changed) hands its remainder to the counter of a rule now in force for the metric
 * (SUCCESSOR_ORDER; the same direction when it is still there) — none when the sub-account has no rule left for it.
 */
async function withRebase(tx: Transaction, companyId: string, metric: string, locationId: string | undefined, change: () => Promise<void>) {
  const before = await effectiveThresholds(tx, companyId, metric, locationId);
  await change();
  const after = await effectiveThresholds(tx, companyId, metric, locationId);
  const at = new Date();
  for (const location of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(location) ?? new Map<RuleDirection, string>();
    const now = after.get(location) ?? new Map<RuleDirection, string>();
    const toSettle = new Set<RuleDirection>();
    for (const [direction, threshold] of old) {
      if (now.get(direction) === threshold) continue;
      await rebaseCounter(tx, location, metric, direction, threshold);
      if (now.has(direction)) toSettle.add(direction);
      else {
        const successor = SUCCESSOR_ORDER.find((d) => now.has(d));
        if (successor === undefined) continue;
        await moveRemainder(tx, location, metric, direction, successor);
        toSettle.add(successor);
      }
    }
    for (const direction of now.keys()) if (!old.has(direction)) toSettle.add(direction);
    for (const direction of [...toSettle].sort()) await settleCounter(tx, location, metric, direction, at);
  }
}
