/**
 * The one client of the settings API (GET /api/openapi.json documents it). The session token lives in this
 * module's memory only: no cookie (HighLevel frames the page cross-site) and no storage (nothing outlives the tab).
 * An expired session is renewed once through HighLevel's SSO, then the request is repeated.
 */
import type { StripeConnectStart } from './api-types-connect';
import type {
  AiSenders,
  ApiKey,
  ApiKeyList,
  ApplyDefaultsResult,
  Backfill,
  BackfillDetail,
  BackfillList,
  BilledBackfill,
  BilledBacklog,
  BillingMode,
  CreatedApiKey,
  CustomerSearch,
  CustomMetric,
  CustomMetricInput,
  CustomMetricList,
  DayRange,
  DefaultsInput,
  EmailBilling,
  EmailBillingSource,
  ErrorBody,
  ErrorCode,
  MapCustomerInput,
  MetricPricingInput,
  Ok,
  Overview,
  PeriodCharges,
  PeriodUsage,
  PricingGrid,
  PricingRow,
  ReconciliationRunDetail,
  ReconciliationRuns,
  ReportLog,
  ReportLogQuery,
  RetriedBatch,
  Session,
  StartBackfillInput,
  StripeConnection,
  SubAccountBillingInput,
  SubAccountDetail,
  SubAccountList,
  SubAccountListQuery,
  Usage,
  UsageBySubAccount,
  UsageBySubAccountQuery,
  WouldBill,
} from './api-types';

export type * from './api-types';
export type * from './api-types-connect';

/** Codes the page makes up itself: the server could not be reached, or answered without a code it knows. */
export type ClientErrorCode = 'network' | 'unknown';

/**
 * An API failure: the HTTP status and the server's `{ error: { code, message } }`. `code` is a code of the server's
 * catalogue (server/http/error-codes.ts), so the page switches on it with the compiler's help.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when the failure means the session token is missing, expired or invalid: sign in again and repeat. */
export function isSessionError(error: ApiError): boolean {
  switch (error.code) {
    case 'unauthenticated':
    case 'session_expired':
    case 'invalid_session':
      return true;
    default:
      return false;
  }
}

let token: string | null = null;
let renew: (() => Promise<Session>) | null = null;

/** Installs the session, and how to get a new one when it expires. */
export function installSession(session: Session, renewSession: () => Promise<Session>): void {
  token = session.token;
  renew = renewSession;
}

/** Exchanges HighLevel's encrypted SSO payload for a session. */
export async function exchangeSsoPayload(payload: string): Promise<Session> {
  return request<Session>('POST', '/api/session', { payload }, false);
}

export async function request<T>(method: string, path: string, body?: unknown, authenticated = true, retried = false): Promise<T> {
  const res = await send(method, path, body, authenticated);
  if (res.ok) return (await res.json()) as T;
  const error = await errorOf(res);
  if (isSessionError(error) && authenticated && !retried && renew) {
    token = (await renew()).token;
    return request<T>(method, path, body, authenticated, true);
  }
  throw error;
}

async function send(method: string, path: string, body: unknown, authenticated: boolean): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (authenticated && token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The billing page could not reach its server. Check your connection and try again.');
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const parsed = (await res.json()) as Partial<ErrorBody>;
    return new ApiError(res.status, parsed.error?.code ?? 'unknown', parsed.error?.message ?? `Request failed (${res.status}).`);
  } catch {
    return new ApiError(res.status, 'unknown', `Request failed (${res.status}).`);
  }
}

/** `?a=1&b=2` from the defined, non-empty parameters ("" when none). */
export const query = (params: object) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params) as Array<[string, unknown]>) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};
const enc = encodeURIComponent;
const reconciliationBase = (locationId?: string) => (locationId ? `/api/sub-accounts/${enc(locationId)}` : '/api');

// ---------- calls ----------

export const api = {
  overview: () => request<Overview>('GET', '/api/overview'),
  stripeConnection: () => request<StripeConnection>('GET', '/api/stripe/connection'),
  connectStripe: (secretKey: string) => request<StripeConnection>('PUT', '/api/stripe/connection', { secretKey }),
  disconnectStripe: () => request<StripeConnection>('DELETE', '/api/stripe/connection'),
  setWebhookSecret: (secret: string) => request<StripeConnection>('PUT', '/api/stripe/webhook-secret', { secret }),
  startStripeConnect: () => request<StripeConnectStart>('POST', '/api/stripe/connect'),
  searchCustomers: (q: string) =>
    request<CustomerSearch>('GET', `/api/stripe/customers${query({ query: q })}`),

  pricing: () => request<PricingGrid>('GET', '/api/pricing'),
  setMetricPricing: (metric: string, input: MetricPricingInput) => request<PricingRow>('PUT', `/api/pricing/${enc(metric)}`, input),
  setDefaults: (input: DefaultsInput) => request<PricingGrid>('PUT', '/api/defaults', input),
  applyDefaults: (locationIds: string[]) =>
    request<ApplyDefaultsResult>('POST', '/api/defaults/apply', { locationIds }),

  subAccounts: (p: SubAccountListQuery) => request<SubAccountList>('GET', `/api/sub-accounts${query(p)}`),
  subAccount: (id: string) => request<SubAccountDetail>('GET', `/api/sub-accounts/${enc(id)}`),
  mapCustomer: (id: string, choice: MapCustomerInput) =>
    request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/customer`, choice),
  setBilling: (id: string, input: SubAccountBillingInput) => request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/billing`, input),
  removeOverride: (id: string, metric: string) => request<Ok>('DELETE', `/api/sub-accounts/${enc(id)}/rules/${enc(metric)}`),

  usage: (range: DayRange) => request<Usage>('GET', `/api/usage${query({ ...range })}`),
  usageBySubAccount: (p: UsageBySubAccountQuery) =>
    request<UsageBySubAccount>('GET', `/api/usage/sub-accounts${query(p)}`),
  periodUsage: (locationIds: string[]) =>
    request<PeriodUsage>(
      'GET',
      `/api/usage/current-period${query({ locationIds: locationIds.join(',') })}`,
    ),
  subAccountUsage: (id: string, range: DayRange) => request<Usage>('GET', `/api/sub-accounts/${enc(id)}/usage${query({ ...range })}`),
  subAccountCharges: (id: string) => request<PeriodCharges>('GET', `/api/sub-accounts/${enc(id)}/current-period`),
  meterReports: (id: string, p: ReportLogQuery) =>
    request<ReportLog>('GET', `/api/sub-accounts/${enc(id)}/meter-reports${query(p)}`),
  retryBatch: (id: string, batchId: number) =>
    request<RetriedBatch>('POST', `/api/sub-accounts/${enc(id)}/meter-batches/${batchId}/retry`),

  apiKeys: () => request<ApiKeyList>('GET', '/api/api-keys'),
  createApiKey: (name: string) => request<CreatedApiKey>('POST', '/api/api-keys', { name }),
  revokeApiKey: (id: number) => request<ApiKey>('DELETE', `/api/api-keys/${id}`),
  customMetrics: () => request<CustomMetricList>('GET', '/api/custom-metrics'),
  defineCustomMetric: (input: CustomMetricInput) => request<CustomMetric>('POST', '/api/custom-metrics', input),
  archiveCustomMetric: (key: string) => request<CustomMetric>('DELETE', `/api/custom-metrics/${enc(key)}`),
  aiSenders: () => request<AiSenders>('GET', '/api/ai-senders'),
  setAiSenders: (markers: string[]) => request<AiSenders>('PUT', '/api/ai-senders', { markers }),
  emailBilling: () => request<EmailBilling>('GET', '/api/email-billing'),
  setEmailBilling: (source: EmailBillingSource) => request<EmailBilling>('PUT', '/api/email-billing', { source }),

  setBillingMode: (id: string, mode: BillingMode) => request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/billing-mode`, { mode }),
  wouldBill: (id: string) => request<WouldBill>('GET', `/api/sub-accounts/${enc(id)}/would-bill`),
  billBacklog: (id: string) => request<BilledBacklog>('POST', `/api/sub-accounts/${enc(id)}/would-bill/bill`),

  backfills: (id: string) => request<BackfillList>('GET', `/api/sub-accounts/${enc(id)}/backfills`),
  backfill: (id: string, backfillId: number) => request<BackfillDetail>('GET', `/api/sub-accounts/${enc(id)}/backfills/${backfillId}`),
  startBackfill: (id: string, input: StartBackfillInput) => request<Backfill>('POST', `/api/sub-accounts/${enc(id)}/backfills`, input),
  cancelBackfill: (id: string, backfillId: number) => request<Backfill>('POST', `/api/sub-accounts/${enc(id)}/backfills/${backfillId}/cancel`),
  billBackfill: (id: string, backfillId: number) =>
    request<BilledBackfill>(
      'POST',
      `/api/sub-accounts/${enc(id)}/backfills/${backfillId}/bill`,
    ),

  /** Reconciliation runs of the agency, or (with `locationId`) of one sub-account, and the drift that stays. */
  reconciliationRuns: (locationId?: string) =>
    request<ReconciliationRuns>('GET', `${reconciliationBase(locationId)}/reconciliation/runs`),
  reconciliationRun: (runId: number, locationId?: string) =>
    request<ReconciliationRunDetail>('GET', `${reconciliationBase(locationId)}/reconciliation/runs/${runId}`),
  reconcileNow: (locationId?: string) => request<ReconciliationRunDetail>('POST', `${reconciliationBase(locationId)}/reconciliation/runs`),

  /** Downloads the CSV the server streams (fetched with the session token, then saved by the browser). */
  downloadUsageCsv: (range: DayRange, locationId?: string): Promise<string> =>
    downloadCsv(`/api/usage/export.csv${query({ ...range, locationId })}`, 'meterbridge-usage.csv'),
};

/**
 * Downloads a CSV the server streams at `path`: fetched with the session token (renewed once if it expired), then
 * saved by the browser under the server's file name (else `fallbackName`).
 * @returns the file name.
 */
export async function downloadCsv(path: string, fallbackName: string): Promise<string> {
  let res = await send('GET', path, undefined, true);
  if (!res.ok) {
    const error = await errorOf(res);
    if (!(isSessionError(error) && renew)) throw error;
    token = (await renew()).token;
    res = await send('GET', path, undefined, true);
    if (!res.ok) throw await errorOf(res);
  }
  const filename = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return filename;
}
