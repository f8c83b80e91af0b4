/**
 * Marketplace modules Meterbridge defines in HighLevel's developer portal that are neither API calls (endpoints.ts)
 * nor webhook subscriptions (event-subscriptions.ts), with the scope HighLevel requires for each: the third source
 * of `manifest.json`'s scopes (test/unit/manifest.test.ts).
 * Workflow actions: marketplace docs "CustomActions" and "WorkflowActionsAndTriggers" (an app's custom workflow
 * actions need `workflows.readonly`).
 */
import { WORKFLOW_ACTION_PATH } from '../workflow-actions/workflow-action-routes';

/** One module: what it is, the app's URL path HighLevel calls, the scope, where HighLevel documents it. */
export interface MarketplaceModule {
  kind: 'workflow action';
  path: string;
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
} as const satisfies Record<string, MarketplaceModule>;

/** The scopes the modules need, sorted, without duplicates. */
export function moduleScopes(): string[] {
  return [...new Set(Object.values(MARKETPLACE_MODULES).map((m) => m.scope))].sort();
}
