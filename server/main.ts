/**
 * The composition root: config → database → services → HTTP app (+ scheduler, as capabilities add jobs).
 * Tests build the same graph through `buildService`, handing in a test database and fakes only at the edges.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { openDatabase, type DatabaseHandle } from '../models/database';
import { ConfigError, loadConfig, type Config } from './config';
import { healthRouter } from './health/routes';
import { createWebhookIntake } from './highlevel/webhook-intake';
import { highLevelWebhookRouter } from './highlevel/webhook-routes';
import { createWebhookVerifier } from './highlevel/webhook-signature';
import { createHttpApp } from './http/app';
import { createLogger } from './logger';

/** A wired service. `close()` stops the HTTP server if started, then the database; safe to call twice. */
export interface Service {
  config: Config;
  app: Express;
  database: DatabaseHandle;
  logger: Logger;
  /** Starts listening; resolves with the bound server (port 0 picks a free port). */
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

export interface BuildOptions {
  config: Config;
  /** An open database; when omitted, the one the config names is opened (and closed by `close()`). */
  database?: DatabaseHandle;
  logger?: Logger;
}

/**
 * Wires every capability.
 * @throws the database driver's error when the database cannot be opened or migrated.
 */
export async function buildService(options: BuildOptions): Promise<Service> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = options.database ?? (await openDatabase(config.database));
  const ownsDatabase = !options.database;

  const verifier = createWebhookVerifier({
    ed25519Pem: config.highLevel.webhookPublicKey,
    rsaPem: config.highLevel.webhookLegacyPublicKey,
  });
  const receiveDelivery = createWebhookIntake({ db: database.db, verifier });

  const app = createHttpApp(logger, [healthRouter(database), highLevelWebhookRouter(receiveDelivery)]);

  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    database,
    logger,
    listen: (port = config.port) =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(s)));
        server = s;
      }),
    close: () =>
      (closing ??= (async () => {
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
        if (ownsDatabase) await database.close();
      })()),
  };
}

/** Runs the service from the environment until SIGTERM/SIGINT, then shuts down gracefully. */
async function main(): Promise<void> {
  let config: Config;
  const early: string[] = [];
  try {
    config = loadConfig(process.env, (message) => early.push(message));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  for (const message of early) logger.warn(message);
  const service = await buildService({ config, logger });
  const server = await service.listen();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, database: service.database.driver }, `Meterbridge listening on http://localhost:${port}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
