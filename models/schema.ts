/**
 * Database schema (Drizzle, PostgreSQL 15+). Migrations in `models/migrations` are generated from these files
 * with `npm run db:generate` and applied at boot by `openDatabase`.
 *
 * Quantities are `numeric` and travel through TypeScript as decimal strings: no float ever touches a total.
 */
export * from './schema/ledger';
export * from './schema/tenancy';
export * from './schema/billing';
export * from './schema/usage-api';
export * from './schema/backfill';
export * from './schema/reconciliation';
export * from './schema/highlevel-saas';
export * from './schema/stripe-connect';
export * from './schema/audit';
export * from './schema/catalog';
export * from './schema/wallets';
export * from './schema/suspension';
export * from './schema/alerts';
export * from './schema/invoice-previews';
export * from './schema/card-summaries';
