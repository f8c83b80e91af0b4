/**
 * Use cases for rebilling rules: the agency's defaults and a sub-account's overrides.
 * "Every `threshold` of `metric` = 1 unit", reported to Stripe under `meterEventName` for the sub-account's
 * customer. Changing the threshold in force re-bases the counter so the unbilled remainder carries over.
 */
import { z } from 'zod';
import type { Database, Transaction } from '../../models/database';
import { badRequest, notFound } from '../http/errors';
import { findSubAccount } from '../tenancy/accounts-repository';
import { lockAgencyBillingSetup } from '../tenancy/tenancy-lock';
import {
  deleteSubAccountRule,
  effectiveThresholds,
  findEffectiveRules,
  listDefaultRules,
  upsertRule,
  type EffectiveRule,
  type PricedRule,
  type RebillingRule,
} from './rules-repository';
import { requireKnownMetric } from './custom-metrics';
import { rebaseCounter, settleCounter } from './billing-rule';

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
      const parsed = ruleInputSchema.safeParse(input);
      if (!parsed.success) throw badRequest('invalid_rule', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const { metric, enabled, direction, meterEventName } = parsed.data;
      return db.transaction(async (tx) => {
        const { companyId, locationId } = await resolveScope(tx, scope);
        await requireKnownMetric(tx, companyId, metric);
        const rule: RebillingRule = {
          companyId,
          locationId,
          metric,
          enabled,
          threshold: parsed.data.threshold,
          direction: direction ?? (OUTBOUND_BY_DEFAULT.has(metric) ? 'outbound' : 'both'),
          meterEventName: meterEventName ?? `meterbridge_${metric}`,
        };
        await withRebase(tx, companyId, metric, locationId ?? undefined, () => upsertRule(tx, rule));
        return rule;
      });
    },

    /** Removes a sub-account's override; it inherits the agency default again. @returns false if none existed. */
    async removeSubAccountRule(locationId: string, metric: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const { companyId } = await resolveScope(tx, { locationId });
        let removed = false;
        await withRebase(tx, companyId, metric, locationId, async () => {
          removed = await deleteSubAccountRule(tx, locationId, metric);
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

/**
 * Runs `change`, then re-bases every counter whose threshold in force it changed (with the old threshold) and
 * bills at once the whole new thresholds its carried remainder already holds.
 */
async function withRebase(tx: Transaction, companyId: string, metric: string, locationId: string | undefined, change: () => Promise<void>) {
  const before = await effectiveThresholds(tx, companyId, metric, locationId);
  await change();
  const after = await effectiveThresholds(tx, companyId, metric, locationId);
  const at = new Date();
  for (const location of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(location) ?? null;
    const now = after.get(location) ?? null;
    if (old === now) continue;
    if (old !== null) await rebaseCounter(tx, location, metric, old);
    if (now !== null) await settleCounter(tx, location, metric, at);
  }
}
