/**
 * The one client of the settings API (GET /api/openapi.json documents it). The session token lives in this
 * module's memory only: no cookie (HighLevel frames the page cross-site) and no storage (nothing outlives the tab).
 * An expired session is renewed once through HighLevel's SSO, then the request is repeated.
 */
import type {
  StripeConnection,
  PricingRow,
  PricingGrid,
  SubAccountRow,
  BillingMode,
  SubAccountDetail,
  Page,
  MetricTotal,
  Usage,
  Overview,
  AiSenders,
  EmailBilling,
  EmailBillingSource,
  PeriodCharges,
  ReportStatus,
  MeterReport,
  DayRange,
  MetricPricingInput,
  OverrideInput,
  ApiKey,
  CreatedApiKey,
  CustomMetric,
  WouldBill,
  BilledBacklog,
  Backfill,
  BackfillDetail,
  StartBackfillInput,
  TaxBehavior,
  BillingAddress,
  DriftAlert,
  ReconciliationRun,
  ReconciliationRunDetail,
} from './api-types';

export type * from './api-types';

export interface SessionUser {
  userId: string;
  companyId: string;
  type: 'agency' | 'location';
  role: string;
  activeLocation: string | null;
  userName?: string;
}

export interface Session {
  token: string;
  expiresAt: string;
  /** The server runs `npm run demo`: simulated HighLevel and Stripe. */
  demo: boolean;
  user: SessionUser;
}

/** An API failure: the HTTP status and the server's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
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
  if (res.status === 401 && authenticated && !retried && renew) {
    token = (await renew()).token;
    return request<T>(method, path, body, authenticated, true);
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

async function send(method: string, path: string, body: unknown, authenticated: boolean): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (authenticated && token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Meterbridge could not be reached. Check your connection and try again.');
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const parsed = (await res.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(res.status, parsed.error?.code ?? 'error', parsed.error?.message ?? `Request failed (${res.status}).`);
  } catch {
    return new ApiError(res.status, 'error', `Request failed (${res.status}).`);
  }
}

const query = (params: object) => {
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
  searchCustomers: (q: string) =>
    request<{ customers: Array<{ id: string; name: string | null; email: string | null }> }>('GET', `/api/stripe/customers${query({ query: q })}`),

  pricing: () => request<PricingGrid>('GET', '/api/pricing'),
  setMetricPricing: (metric: string, input: MetricPricingInput) => request<PricingRow>('PUT', `/api/pricing/${enc(metric)}`, input),
  setDefaults: (input: { autoApply?: boolean; flatFeeAmount?: number | null; taxBehavior?: TaxBehavior }) => request<PricingGrid>('PUT', '/api/defaults', input),
  applyDefaults: (locationIds: string[]) =>
    request<{ results: Array<{ locationId: string; ok: boolean; error?: string }> }>('POST', '/api/defaults/apply', { locationIds }),

  subAccounts: (p: { search?: string; page: number; pageSize: number }) => request<Page<SubAccountRow>>('GET', `/api/sub-accounts${query(p)}`),
  subAccount: (id: string) => request<SubAccountDetail>('GET', `/api/sub-accounts/${enc(id)}`),
  mapCustomer: (id: string, choice: { customerId: string } | { create: true }) =>
    request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/customer`, choice),
  setBilling: (
    id: string,
    input: {
      rebillingEnabled?: boolean;
      overrides?: OverrideInput[];
      subscription?: { coupon?: string; automaticTax?: boolean; startAt?: string; billingAddress?: BillingAddress };
    },
  ) => request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/billing`, input),
  removeOverride: (id: string, metric: string) => request<{ ok: true }>('DELETE', `/api/sub-accounts/${enc(id)}/rules/${enc(metric)}`),

  usage: (range: DayRange) => request<Usage>('GET', `/api/usage${query({ ...range })}`),
  usageBySubAccount: (p: DayRange & { search?: string; page: number; pageSize: number }) =>
    request<DayRange & Page<{ locationId: string; name: string | null; metrics: MetricTotal[] }>>('GET', `/api/usage/sub-accounts${query(p)}`),
  periodUsage: (locationIds: string[]) =>
    request<{ periodStart: string; periodEnd: string; items: Array<{ locationId: string; metrics: MetricTotal[] }> }>(
      'GET',
      `/api/usage/current-period${query({ locationIds: locationIds.join(',') })}`,
    ),
  subAccountUsage: (id: string, range: DayRange) => request<Usage>('GET', `/api/sub-accounts/${enc(id)}/usage${query({ ...range })}`),
  subAccountCharges: (id: string) => request<PeriodCharges>('GET', `/api/sub-accounts/${enc(id)}/current-period`),
  meterReports: (id: string, p: { status?: ReportStatus; page: number; pageSize: number }) =>
    request<Page<MeterReport> & { counts: Record<ReportStatus, number> }>('GET', `/api/sub-accounts/${enc(id)}/meter-reports${query(p)}`),
  retryBatch: (id: string, batchId: number) =>
    request<{ requeued: true; batchId: number; newIdentifier: boolean }>('POST', `/api/sub-accounts/${enc(id)}/meter-batches/${batchId}/retry`),

  apiKeys: () => request<{ keys: ApiKey[] }>('GET', '/api/api-keys'),
  createApiKey: (name: string) => request<CreatedApiKey>('POST', '/api/api-keys', { name }),
  revokeApiKey: (id: number) => request<ApiKey>('DELETE', `/api/api-keys/${id}`),
  customMetrics: () => request<{ metrics: CustomMetric[] }>('GET', '/api/custom-metrics'),
  defineCustomMetric: (input: { key: string; label: string; unit: string }) => request<CustomMetric>('POST', '/api/custom-metrics', input),
  archiveCustomMetric: (key: string) => request<CustomMetric>('DELETE', `/api/custom-metrics/${enc(key)}`),
  aiSenders: () => request<AiSenders>('GET', '/api/ai-senders'),
  setAiSenders: (markers: string[]) => request<AiSenders>('PUT', '/api/ai-senders', { markers }),
  emailBilling: () => request<EmailBilling>('GET', '/api/email-billing'),
  setEmailBilling: (source: EmailBillingSource) => request<EmailBilling>('PUT', '/api/email-billing', { source }),

  setBillingMode: (id: string, mode: BillingMode) => request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/billing-mode`, { mode }),
  wouldBill: (id: string) => request<WouldBill>('GET', `/api/sub-accounts/${enc(id)}/would-bill`),
  billBacklog: (id: string) => request<BilledBacklog>('POST', `/api/sub-accounts/${enc(id)}/would-bill/bill`),

  backfills: (id: string) => request<{ items: Backfill[] }>('GET', `/api/sub-accounts/${enc(id)}/backfills`),
  backfill: (id: string, backfillId: number) => request<BackfillDetail>('GET', `/api/sub-accounts/${enc(id)}/backfills/${backfillId}`),
  startBackfill: (id: string, input: StartBackfillInput) => request<Backfill>('POST', `/api/sub-accounts/${enc(id)}/backfills`, input),
  cancelBackfill: (id: string, backfillId: number) => request<Backfill>('POST', `/api/sub-accounts/${enc(id)}/backfills/${backfillId}/cancel`),
  billBackfill: (id: string, backfillId: number) =>
    request<{ backfill: BackfillDetail; recordsOffered: number; unitsDue: Array<{ metric: string; units: number }> }>(
      'POST',
      `/api/sub-accounts/${enc(id)}/backfills/${backfillId}/bill`,
    ),

  /** Reconciliation runs of the agency, or (with `locationId`) of one sub-account, and the drift that stays. */
  reconciliationRuns: (locationId?: string) =>
    request<{ items: ReconciliationRun[]; alert: DriftAlert }>('GET', `${reconciliationBase(locationId)}/reconciliation/runs`),
  reconciliationRun: (runId: number, locationId?: string) =>
    request<ReconciliationRunDetail>('GET', `${reconciliationBase(locationId)}/reconciliation/runs/${runId}`),
  reconcileNow: (locationId?: string) => request<ReconciliationRunDetail>('POST', `${reconciliationBase(locationId)}/reconciliation/runs`),

  /** Downloads the CSV the server streams (fetched with the session token, then saved by the browser). */
  async downloadUsageCsv(range: DayRange, locationId?: string): Promise<string> {
    const path = `/api/usage/export.csv${query({ ...range, locationId })}`;
    let res = await send('GET', path, undefined, true);
    if (res.status === 401 && renew) {
      token = (await renew()).token;
      res = await send('GET', path, undefined, true);
    }
    if (!res.ok) throw await errorOf(res);
    const filename = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'meterbridge-usage.csv';
    const url = URL.createObjectURL(await res.blob());
    const link = Object.assign(document.createElement('a'), { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return filename;
  },
};
