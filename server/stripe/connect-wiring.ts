/**
 * Composes "Connect with Stripe" for the composition root (server/main.ts): the agency connection resolver (key |
 * Connect, used by every Stripe use case), and — when the operator configured a Connect platform (STRIPE_CONNECT_*)
 * — the OAuth flow, its routes and the platform's Connect webhook. Without a platform, the resolver serves pasted
 * keys only, `POST /api/stripe/connect` answers 404 `stripe_connect_not_configured`, and no webhook is mounted.
 */
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Database } from '../../models/database';
import type { Config } from '../config';
import type { SecretBox } from '../crypto/secret-box';
import { createAgencyConnections } from './agency-connection';
import { createConnectConnection } from './connect-connection';
import { createConnectOAuth } from './connect-oauth';
import { stripeConnectApiRoutes, stripeConnectRouter } from './connect-routes';
import { connectWebhookRouter, createConnectWebhook } from './connect-webhook';
import type { EventDestinations } from './event-destinations';
import type { PaymentEvents } from './payment-events';
import type { StripeClientFactory } from './stripe-client';

export function wireStripeConnect(deps: {
  config: Config;
  db: Database;
  secretBox: SecretBox;
  stripeClient: StripeClientFactory;
  eventDestinations: EventDestinations;
  logger: Logger;
}) {
  const { config, db, logger } = deps;
  const platform = config.stripeConnect;
  const connections = createAgencyConnections({ db, secretBox: deps.secretBox, clients: deps.stripeClient, platform });
  const platformClient = connections.platformClient();
  const oauth = platform && platformClient ? createConnectOAuth({ db, encryptionKey: config.encryptionKey, platform, platformClient }) : null;
  const connect = oauth ? createConnectConnection({ db, oauth, connections, eventDestinations: deps.eventDestinations, logger }) : null;
  return {
    connections,
    /** For the settings capability's status and disconnect (null without a platform). */
    connect,
    apiRoutes: stripeConnectApiRoutes({ oauth, appUrl: config.appUrl }),
    /** The browser legs and, with a platform, `POST /webhooks/stripe-connect` dispatching to `paymentEvents`. */
    routers(paymentEvents: PaymentEvents): Router[] {
      const routers = [stripeConnectRouter({ oauth, connect, appUrl: config.appUrl, logger })];
      if (platform && connect) routers.push(connectWebhookRouter(createConnectWebhook({ db, webhookSecret: platform.webhookSecret, connections, connect, paymentEvents })));
      return routers;
    },
  };
}
