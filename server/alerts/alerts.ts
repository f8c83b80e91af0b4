/**
 * The alerts capability, wired for the composition root (server/main.ts): one mechanism, three channels per agency —
 * the in-app notifications, the outbound Standard Webhooks webhook and HighLevel marketplace workflow triggers.
 * Events are raised in the transaction of the change behind them (server/alerts/events.ts, raise.ts); the alerts
 * job sends the channel deliveries afterwards (deliver.ts); periodic checks raise usage and card alerts (checks.ts).
 */
import type { Router } from 'express';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Database, Executor } from '../../models/database';
import type { SecretBox } from '../crypto/secret-box';
import type { TokenOwner } from '../highlevel/installation-tokens';
import { createAlertChecks } from './checks';
import { createAlertDelivery } from './deliver';
import { alertPaymentStatus, alertWalletLow, type PaymentStatusChange, type WalletLow } from './events';
import { createNotifications } from './notifications';
import { alertRoutes } from './routes';
import { createAlertSettings } from './settings';
import { triggerSubscriptionRouter } from './trigger-subscriptions';

export { raiseAlert } from './raise';

/** The alerts job's name (the scheduler nudges it after an alert is raised). */
export const ALERTS_DELIVERY_JOB = 'alerts-delivery';

/**
 * Builds the capability: `routes` (the settings API), `router()` (HighLevel's trigger subscription URL), `delivery`
 * (the alerts job), `checks` (usage, cards, operations), and the hooks other capabilities call (`onPaymentStatus`
 * inside their transaction, `onWalletLow`).
 */
export function createAlerts(deps: {
  db: Database;
  secretBox: SecretBox;
  /** The sub-account's HighLevel access token, for workflow trigger calls. */
  accessToken: (owner: TokenOwner) => Promise<string>;
  stripeIfConnected: (companyId: string) => Promise<Stripe | null>;
  logger: Logger;
  /** HIGHLEVEL_WORKFLOW_ACTION_SECRET (HighLevel's trigger subscription calls carry it) and HighLevel's API URL. */
  highLevel: { workflowActionSecret?: string; apiUrl: string };
  /** Asks for a run of the alerts job soon (after a raise committed). */
  nudge: () => void;
}) {
  const notifications = createNotifications({ db: deps.db });
  const settings = createAlertSettings({ db: deps.db, secretBox: deps.secretBox });
  const delivery = createAlertDelivery(deps);
  const checks = createAlertChecks({ db: deps.db, stripeIfConnected: deps.stripeIfConnected, logger: deps.logger });
  return {
    notifications,
    settings,
    delivery,
    checks,
    nudge: deps.nudge,
    routes: alertRoutes({ notifications, settings }),
    router: (): Router => triggerSubscriptionRouter({ db: deps.db, secret: deps.highLevel.workflowActionSecret, apiUrl: deps.highLevel.apiUrl }),
    /** For server/stripe/payment-events.ts: raises the payment alerts inside the status change's transaction. */
    onPaymentStatus: (tx: Executor, change: PaymentStatusChange) => alertPaymentStatus(tx, change),
    /** For server/wallets: "wallet low", raised on its own (the auto top-up check holds no transaction), then sent. */
    onWalletLow: async (input: WalletLow) => {
      const raised = await alertWalletLow(deps.db, input);
      if (raised.created) deps.nudge();
      return raised;
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
