/**
 * The money API's types, taken from the server's contract (server/money/schemas.ts) with `import type`: the schemas
 * are never bundled, only their inferred shapes. Amounts are integer cents; months `YYYY-MM` (UTC).
 */
import type { z } from 'zod';
import type * as s from '../../server/money/schemas';

export type AgencyMoney = z.infer<typeof s.agencyMoneyResponse>;
export type MoneyMonth = AgencyMoney['months'][number];
export type SubAccountMoney = z.infer<typeof s.subAccountMoneyResponse>;
export type Attention = z.infer<typeof s.attentionResponse>;
export type UsageAmounts = z.infer<typeof s.usageAmountsResponse>;
