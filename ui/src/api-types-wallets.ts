/**
 * The wallets API's types, taken from the server's contract (server/wallets/schemas.ts) with `import type`: the
 * schemas are never bundled, only their inferred shapes. Amounts are integer cents; times ISO 8601 strings.
 */
import type { z } from 'zod';
import type * as s from '../../server/wallets/schemas';

/** A sub-account's wallet: mode, settings in force, balance (cents) and latest top-ups. */
export type Wallet = z.infer<typeof s.walletResponse>;
/** The balance: Stripe credit, unbilled usage and their difference, cents. */
export type WalletBalance = z.infer<typeof s.walletBalanceSchema>;
/** One top-up of the wallet ledger. */
export type TopUp = z.infer<typeof s.topUpSchema>;
/** Wallet settings as sent (mode, amounts in cents). */
export type WalletSettingsInput = z.infer<typeof s.walletSettingsRequest>;
/** Wallet settings as stored, with their source. */
export type WalletSettings = z.infer<typeof s.walletSettingsSchema>;
/** The answer to "Top up now". */
export type TopUpResult = z.infer<typeof s.topUpResponse>;
/** One refund of a top-up (the wallet ledger). */
export type Refund = z.infer<typeof s.refundSchema>;
/** What may be refunded of a top-up now, and the figures of the rule (cents). */
export type Refundable = z.infer<typeof s.refundableSchema>;
/** The hosted Checkout page of a client's top-up. */
export type CheckoutTopUp = z.infer<typeof s.checkoutTopUpResponse>;
/** The agency's prepaid wallets and their balances. */
export type AgencyBalances = z.infer<typeof s.agencyBalancesResponse>;
