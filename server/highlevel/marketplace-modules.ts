/**
 * Marketplace modules Meterbridge defines in HighLevel's developer portal that are neither API calls (endpoints.ts)
 * nor webhook subscriptions (event-subscriptions.ts), with the scope HighLevel requires for each: the third source
 * of `manifest.json`'s scopes (test/unit/manifest.test.ts).
 * Workflow actions: marketplace docs "CustomActions" and "WorkflowActionsAndTriggers" (an app's custom workflow
 * actions need `workflows.readonly`).
 * Workflow triggers: marketplace docs "CustomTriggers" (marketplace.gohighlevel.com/docs/marketplace-modules/CustomTriggers):
 * each trigger has an immutable key and a Subscription URL HighLevel posts to when a workflow adds, changes or removes
 * it, with the `targetUrl` the app posts events to; "WorkflowActionsAndTriggers": triggers need `workflows.readonly`
 * too. All of Meterbridge's triggers share one Subscription URL (server/alerts/trigger-subscriptions.ts).
 */
import { TRIGGER_KEYS } from '../alerts/kinds';
import { TRIGGER_SUBSCRIPTION_PATH } from '../alerts/trigger-subscriptions';
import { WORKFLOW_ACTION_PATH } from '../workflow-actions/workflow-action-routes';

/** One module: what it is, the app's URL path HighLevel calls, the scope, where HighLevel documents it. */
export interface MarketplaceModule {
  kind: 'workflow action' | 'workflow trigger';
  /** The app's URL path HighLevel calls (a trigger's: its Subscription URL). */
  path: string;
  /** A workflow trigger's immutable key in the developer portal. */
  key?: string;
  scope: string;
  source: string;
}

/** The modules, by name. */
export const MARKETPLACE_MODULES = {
  recordBillableUsage: {
    kind: 'workflow action',
    path: WORKFLOW_ACTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomActions / WorkflowActionsAndTriggers',
  },
  paymentFailedTrigger: {
    kind: 'workflow trigger',
    key: TRIGGER_KEYS.paymentFailed,
    path: TRIGGER_SUBSCRIPTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomTriggers / WorkflowActionsAndTriggers ("Payment failed")',
  },
  paymentRecoveredTrigger: {
    kind: 'workflow trigger',
    key: TRIGGER_KEYS.paymentRecovered,
    path: TRIGGER_SUBSCRIPTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomTriggers / WorkflowActionsAndTriggers ("Payment recovered")',
  },
  cardMissingTrigger: {
    kind: 'workflow trigger',
    key: TRIGGER_KEYS.cardMissing,
    path: TRIGGER_SUBSCRIPTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomTriggers / WorkflowActionsAndTriggers ("Card missing")',
  },
  usageAlertTrigger: {
    kind: 'workflow trigger',
    key: TRIGGER_KEYS.usageAlert,
    path: TRIGGER_SUBSCRIPTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomTriggers / WorkflowActionsAndTriggers ("Usage alert")',
  },
  walletLowTrigger: {
    kind: 'workflow trigger',
    key: TRIGGER_KEYS.walletLow,
    path: TRIGGER_SUBSCRIPTION_PATH,
    scope: 'workflows.readonly',
    source: 'marketplace docs CustomTriggers / WorkflowActionsAndTriggers ("Wallet low")',
  },
} as const satisfies Record<string, MarketplaceModule>;

/** The scopes the modules need, sorted, without duplicates. */
export function moduleScopes(): string[] {
  return [...new Set(Object.values(MARKETPLACE_MODULES).map((m) => m.scope))].sort();
}
