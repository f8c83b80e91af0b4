/**
 * The `api-key` access level of the route table (server/http/api-route.ts): an `Authorization: Bearer mbk_…`
 * header becomes a caller acting for the key's agency. The settings gatekeeper hands `api-key` routes here.
 */
import type { Request } from 'express';
import type { Caller } from '../http/api-route';
import type { ApiKeys } from './api-keys';

/**
 * @returns a resolver of API-key callers.
 * @throws (from the resolver) AppError 401 for a missing, unknown or revoked key.
 */
export function apiKeyCaller(apiKeys: ApiKeys): (req: Request) => Promise<Caller> {
  return async (req) => {
    const { keyId, companyId } = await apiKeys.authenticate(req.get('authorization'));
    return { userId: `api-key:${keyId}`, companyId, type: 'api-key', role: 'api-key', activeLocation: null, apiKeyId: keyId };
  };
}
