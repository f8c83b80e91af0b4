/** Calls of the audit log (server/audit/routes.ts), through the settings API's one client (api.ts). */
import { downloadCsv, request } from './api';
import type { AuditFilter, AuditList } from './api-types-audit';

const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
};

/** The audit-log calls. */
export const auditApi = {
  /** One page of entries, newest first; `beforeId` continues after the last entry of the previous page. */
  list: (filter: AuditFilter, beforeId?: number, limit = 50) => request<AuditList>('GET', `/api/audit-log${query({ ...filter, beforeId, limit })}`),
  /** Downloads every entry matching `filter` as CSV. */
  downloadCsv: (filter: AuditFilter) => downloadCsv(`/api/audit-log.csv${query({ ...filter })}`, 'meterbridge-activity.csv'),
};
