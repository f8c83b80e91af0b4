/**
 * The payments API's types, taken from the server's contract (server/payments/schemas.ts) with `import type`: the
 * schemas are never bundled, only their inferred shapes. Amounts are integer cents; times ISO 8601 strings.
 */
import type { z } from 'zod';
import type * as s from '../../server/payments/schemas';

export type Card = z.infer<typeof s.cardSchema>;
export type HeldUsage = z.infer<typeof s.heldUsageSchema>;
export type SubAccountPayments = z.infer<typeof s.subAccountPaymentsResponse>;
export type PaymentFlags = z.infer<typeof s.paymentFlagsResponse>;
export type PaymentFlag = PaymentFlags['items'][number];
export type HostedLink = z.infer<typeof s.hostedLinkResponse>;
export type Invoice = z.infer<typeof s.invoiceSchema>;
export type InvoiceList = z.infer<typeof s.invoiceListResponse>;
export type InvoiceListQuery = Partial<z.infer<typeof s.invoiceListQuery>>;
export type InvoiceStatusFilter = NonNullable<InvoiceListQuery['status']>;
export type NextInvoice = z.infer<typeof s.nextInvoiceResponse>;
export type PaymentSettings = z.infer<typeof s.paymentSettingsSchema>;
