/**
 * The one client of the settings API (GET /api/openapi.json documents it). The session token lives in this
 * module's memory only: no cookie (HighLevel frames the page cross-site) and no storage (nothing outlives the tab).
 * An expired session is renewed once through HighLevel's SSO, then the request is repeated.
 */

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

async function request<T>(method: string, path: string, body?: unknown, authenticated = true, retried = false): Promise<T> {
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

// ---------- shapes (see the OpenAPI document) ----------

export interface StripeConnection {
  connected: boolean;
  mode: 'test' | 'live' | null;
  keyType: 'secret' | 'restricted' | null;
  keyLast4: string | null;
  accountId: string | null;
  accountName: string | null;
  missingPermissions: Array<{ permission: string; label: string }>;
  webhook: { url: string; configured: boolean; createdByMeterbridge: boolean };
}

export interface PriceTerms {
  currency: string;
  interval: string;
  unitAmountDecimal?: string;
  tiers?: Array<{ upTo: number | 'inf'; unitAmountDecimal: string; flatAmount?: number }>;
}

export interface PricingRow {
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  priceTerms: PriceTerms | null;
  stripePriceId: string | null;
  retailPerMetricUnit: string | null;
  baseCostDecimal: string | null;
  marginPerMetricUnit: string | null;
  marginPercent: string | null;
  belowCost: boolean;
}

export interface PricingGrid {
  currency: string;
  autoApply: boolean;
  flatFee: { amount: number; priceId: string } | null;
  rows: PricingRow[];
}

export interface SubAccountRow {
  locationId: string;
  name: string | null;
  email: string | null;
  installed: boolean;
  needsReinstall: boolean;
  rebillingEnabled: boolean;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  billingStatus: 'ok' | 'delinquent' | 'paused';
  billingStatusReason: string | null;
  failedReports: number;
  /** `shadow`: crossings are computed and shown as "would bill", nothing is sent to Stripe. */
  billingMode: BillingMode;
  billingModeChangedAt: string | null;
}

/** Live billing, or shadow mode (computed, never sent). */
export type BillingMode = 'live' | 'shadow';

export interface EffectiveRule {
  metric: string;
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  meterEventName: string;
  inherited: boolean;
  stripePriceId: string | null;
}

export interface SubAccountDetail extends SubAccountRow {
  rules: EffectiveRule[];
  counters: Array<{ metric: string; total: string; billedUnits: number }>;
}

export interface Page<T> {
  total: number;
  page: number;
  pageSize: number;
  items: T[];
}

export interface MetricTotal {
  metric: string;
  unit: string | null;
  quantity: string;
  records: number;
  unitsBilled: number;
  unitsSent: number;
  unitsFailed: number;
}

export type Granularity = 'day' | 'week' | 'month';

export interface Usage {
  from: string;
  to: string;
  granularity: Granularity;
  totals: MetricTotal[];
  series: Array<{ bucket: string; metric: string; quantity: string }>;
}

export interface Overview {
  installed: boolean;
  stripeConnected: boolean;
  pricedMetrics: number;
  subAccounts: number;
  mapped: number;
  rebilling: number;
  delinquent: number;
  needsReinstall: number;
  failedReports: number;
  unitsSent: number;
  lastUnitSentAt: string | null;
}

/**
 * Who writes the agency's AI messages: each marker is `user:<userId>`, `provider:<conversationProviderId>`,
 * `source:<source>` or `unattended`; outbound texts they match count as `ai_messages` and `ai_tokens`.
 */
export interface AiSenders {
  markers: string[];
}

export interface PeriodCharges {
  periodStart: string;
  periodEnd: string;
  currency: string;
  lines: Array<MetricTotal & { threshold: string | null; currency: string | null; estimatedCents: string | null }>;
  flatFeeCents: number | null;
  estimatedTotalCents: string;
}

export type ReportStatus = 'pending' | 'batched' | 'sent' | 'failed';

export interface MeterReport {
  id: number;
  metric: string;
  units: number;
  crossedAt: string;
  status: ReportStatus;
  stripeCustomerId: string;
  meterEventName: string;
  batchId: number | null;
  identifier: string | null;
  attempts: number | null;
  lastError: string | null;
  sentAt: string | null;
}

export interface DayRange {
  from: string;
  to: string;
}

/** Metric pricing as PUT /api/pricing/:metric takes it. Amounts in cents, decimal strings. */
export interface MetricPricingInput {
  enabled: boolean;
  threshold: string;
  direction: 'outbound' | 'inbound' | 'both';
  price: { currency: string; interval: 'month'; unitAmountDecimal: string };
  baseCostDecimal: string | null;
}

export type OverrideInput =
  | { metric: string; inherit: true }
  | { metric: string; enabled: boolean; threshold: string; direction?: 'outbound' | 'inbound' | 'both' };

/** An agency API key for POST /api/v1/usage, as listed: never the key itself. */
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The answer that creates a key: the only one that carries `key`. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** A metric the agency defined for the usage API; `archivedAt` set means new usage for it is refused. */
export interface CustomMetric {
  key: string;
  label: string;
  unit: string;
  archivedAt: string | null;
  createdAt: string;
}

/** One metric of a shadow backlog, priced at today's rule. Amounts in cents, decimal strings. */
export interface WouldBillLine {
  metric: string;
  units: number;
  reports: number;
  firstCrossedAt: string;
  lastCrossedAt: string;
  threshold: string | null;
  meterEventName: string | null;
  stripePriceId: string | null;
  priced: boolean;
  currency: string | null;
  amountCents: string | null;
  months: Array<{ month: string; units: number; amountCents: string | null }>;
}

/** What a sub-account's shadow backlog would bill (GET …/would-bill). */
export interface WouldBill {
  locationId: string;
  billingMode: BillingMode;
  billingModeChangedAt: string | null;
  currency: string;
  totalCents: string;
  firstCrossedAt: string | null;
  lastCrossedAt: string | null;
  metrics: WouldBillLine[];
}

/** The answer of billing a shadow backlog: how many reports moved to the Stripe customer. */
export interface BilledBacklog {
  locationId: string;
  stripeCustomerId: string;
  reports: number;
  metrics: Array<{ metric: string; units: number; reports: number }>;
}

/** HighLevel channels a backfill can import. */
export type BackfillChannel = 'SMS' | 'Call' | 'Email' | 'WhatsApp';
export type BackfillStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A backfill of HighLevel history and its progress. */
export interface Backfill {
  id: number;
  locationId: string;
  channels: BackfillChannel[];
  startAt: string;
  endAt: string;
  bill: boolean;
  status: BackfillStatus;
  currentChannel: BackfillChannel | null;
  pages: number;
  messagesSeen: number;
  messagesImported: number;
  messagesDuplicate: number;
  messagesSkipped: number;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  billedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A backfill with the usage it imported per metric (`heldQuantity`: not billed yet). */
export interface BackfillDetail extends Backfill {
  usage: Array<{ metric: string; unit: string; records: number; quantity: string; heldQuantity: string }>;
}

/** POST …/backfills body: ISO 8601 instants with a zone, `endAt` exclusive. */
export interface StartBackfillInput {
  startAt: string;
  endAt: string;
  channels?: BackfillChannel[];
  bill?: boolean;
}

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
  setDefaults: (input: { autoApply?: boolean; flatFeeAmount?: number | null }) => request<PricingGrid>('PUT', '/api/defaults', input),
  applyDefaults: (locationIds: string[]) =>
    request<{ results: Array<{ locationId: string; ok: boolean; error?: string }> }>('POST', '/api/defaults/apply', { locationIds }),

  subAccounts: (p: { search?: string; page: number; pageSize: number }) => request<Page<SubAccountRow>>('GET', `/api/sub-accounts${query(p)}`),
  subAccount: (id: string) => request<SubAccountDetail>('GET', `/api/sub-accounts/${enc(id)}`),
  mapCustomer: (id: string, choice: { customerId: string } | { create: true }) =>
    request<SubAccountDetail>('PUT', `/api/sub-accounts/${enc(id)}/customer`, choice),
  setBilling: (
    id: string,
    input: { rebillingEnabled?: boolean; overrides?: OverrideInput[]; subscription?: { coupon?: string; automaticTax?: boolean } },
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
    request<{ requeued: true; batchId: number }>('POST', `/api/sub-accounts/${enc(id)}/meter-batches/${batchId}/retry`),

  apiKeys: () => request<{ keys: ApiKey[] }>('GET', '/api/api-keys'),
  createApiKey: (name: string) => request<CreatedApiKey>('POST', '/api/api-keys', { name }),
  revokeApiKey: (id: number) => request<ApiKey>('DELETE', `/api/api-keys/${id}`),
  customMetrics: () => request<{ metrics: CustomMetric[] }>('GET', '/api/custom-metrics'),
  defineCustomMetric: (input: { key: string; label: string; unit: string }) => request<CustomMetric>('POST', '/api/custom-metrics', input),
  archiveCustomMetric: (key: string) => request<CustomMetric>('DELETE', `/api/custom-metrics/${enc(key)}`),
  aiSenders: () => request<AiSenders>('GET', '/api/ai-senders'),
  setAiSenders: (markers: string[]) => request<AiSenders>('PUT', '/api/ai-senders', { markers }),

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
