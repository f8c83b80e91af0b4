/** Calls of the payments API (server/payments/routes.ts), through the settings API's one client (api.ts). */
import { request } from './api';
import type { HostedLink, InvoiceList, InvoiceListQuery, NextInvoice, PaymentFlags, PaymentSettings, SubAccountPayments } from './api-types-payments';

const enc = encodeURIComponent;
const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
};

export const paymentsApi = {
  subAccountPayments: (locationId: string) => request<SubAccountPayments>('GET', `/api/sub-accounts/${enc(locationId)}/payments`),
  cardLink: (locationId: string) => request<HostedLink>('POST', `/api/sub-accounts/${enc(locationId)}/payments/card-link`, {}),
  portalLink: (locationId: string) => request<HostedLink>('POST', `/api/sub-accounts/${enc(locationId)}/payments/portal-link`, {}),
  invoices: (locationId: string, q: InvoiceListQuery = {}) =>
    request<InvoiceList>('GET', `/api/sub-accounts/${enc(locationId)}/invoices${query({ status: q.status, startingAfter: q.startingAfter, limit: q.limit })}`),
  nextInvoice: (locationId: string) => request<NextInvoice>('GET', `/api/sub-accounts/${enc(locationId)}/next-invoice`),
  flags: (locationIds: string[]) => request<PaymentFlags>('GET', `/api/payments/sub-accounts${query({ locationIds: locationIds.join(',') })}`),
  agencyInvoices: (q: InvoiceListQuery = {}) => request<InvoiceList>('GET', `/api/invoices${query({ status: q.status, startingAfter: q.startingAfter, limit: q.limit })}`),
  settings: () => request<PaymentSettings>('GET', '/api/payments/settings'),
  setSettings: (input: Partial<PaymentSettings>) => request<PaymentSettings>('PUT', '/api/payments/settings', input),
};
