/**
 * Agency API keys for the usage API: created in the settings API and shown once, stored as their SHA-256 only
 * (a key is 32 random bytes, so a fast hash is as safe as a slow one), listed by prefix, revoked for good.
 * `authenticate` turns an `Authorization: Bearer mbk_…` header into the key's agency.
 */
import { recordAudit, type AuditActor } from '../audit/audit-log';
import { describeApiKey } from '../audit/describe';
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../models/database';
import { AppError, notFound, unauthorized } from '../http/errors';
import { findAgency } from '../tenancy/accounts-repository';
import {
  countActiveApiKeys,
  findApiKeyByHash,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
  type ApiKeySummary,
} from './api-key-repository';

/** `mbk_` + base64url of 32 random bytes (43 characters). */
export const API_KEY_PATTERN = /^mbk_[A-Za-z0-9_-]{43}$/;
/** Characters of a key kept in clear to tell keys apart: `mbk_` + 8. */
const PREFIX_LENGTH = 12;
/** Most unrevoked keys one agency may hold. */
export const MAX_ACTIVE_API_KEYS = 50;
/** `last_used_at` is written at most once per key per this many seconds. */
const LAST_USED_RESOLUTION_SECONDS = 60;

/** Input for creating a key (server/usage-api/schemas.ts). */
export { apiKeyInput } from './schemas';

/** A new key: the summary plus the key itself, which is never shown again. */
export interface CreatedApiKey extends ApiKeySummary {
  key: string;
}

/** The agency an API key acts for. */
export interface ApiKeyIdentity {
  keyId: number;
  companyId: string;
}

/** SHA-256 of a key, hex: what `api_keys.key_hash` holds. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Builds the API-key use cases over a database. */
export function createApiKeys({ db }: { db: Database }) {
  return {
    /**
     * Creates a key for the agency.
     * @returns the key in clear — the only time it leaves the server — with its summary.
     * @throws AppError 404 when the agency has not installed Meterbridge; 409 `too_many_api_keys` past
     *   MAX_ACTIVE_API_KEYS unrevoked keys.
     */
    async create(companyId: string, name: string, actor: AuditActor = { type: 'system' }): Promise<CreatedApiKey> {
      if (!(await findAgency(db, companyId))) throw notFound('Meterbridge is not installed for this agency.');
      const key = `mbk_${randomBytes(32).toString('base64url')}`;
      return db.transaction(async (tx) => {
        if ((await countActiveApiKeys(tx, companyId)) >= MAX_ACTIVE_API_KEYS) {
          throw new AppError('too_many_api_keys', `An agency can hold at most ${MAX_ACTIVE_API_KEYS} active API keys; revoke one first.`);
        }
        const stored = await insertApiKey(tx, { companyId, name, prefix: key.slice(0, PREFIX_LENGTH), keyHash: hashApiKey(key) });
        await recordAudit(tx, { companyId, actor, action: 'api_key.created', subject: 'api_key', before: null, after: describeApiKey(stored) });
        return { ...stored, key };
      });
    },

    /** The agency's keys, newest first: never the key or its hash. */
    list: (companyId: string): Promise<ApiKeySummary[]> => listApiKeys(db, companyId),

    /**
     * Revokes a key: from now on it is refused with 401. Revoking twice is harmless.
     * @throws AppError 404 when the agency has no such key.
     */
    async revoke(companyId: string, id: number, actor: AuditActor = { type: 'system' }): Promise<ApiKeySummary> {
      return db.transaction(async (tx) => {
        const before = (await listApiKeys(tx, companyId)).find((k) => k.id === id);
        const revoked = await revokeApiKey(tx, companyId, id);
        if (!revoked || !before) throw notFound(`No API key ${id}.`);
        if (!before.revokedAt) {
          await recordAudit(tx, { companyId, actor, action: 'api_key.revoked', subject: 'api_key', before: describeApiKey(before), after: describeApiKey(revoked) });
        }
        return revoked;
      });
    },

    /**
     * Authenticates an `Authorization` header value and notes the key's use (at most once a minute per key).
     * @throws AppError 401 `unauthenticated` (no bearer credential), `invalid_api_key` (not a key Meterbridge
     *   issued) or `api_key_revoked`. The messages never echo the credential.
     */
    async authenticate(authorization: string | undefined): Promise<ApiKeyIdentity> {
      const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      if (!presented) {
        throw unauthorized('unauthenticated', 'Send an API key as "Authorization: Bearer mbk_…"; agency users create them in Meterbridge’s settings.');
      }
      const found = API_KEY_PATTERN.test(presented) ? await findApiKeyByHash(db, hashApiKey(presented)) : null;
      if (!found) throw unauthorized('invalid_api_key', 'The API key is not valid (Meterbridge API keys start with mbk_).');
      if (found.revokedAt) throw unauthorized('api_key_revoked', 'This API key has been revoked; create a new one in Meterbridge’s settings.');
      if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_SECONDS * 1000) {
        await touchApiKey(db, found.id, LAST_USED_RESOLUTION_SECONDS);
      }
      return { keyId: found.id, companyId: found.companyId };
    },
  };
}

/** The API-key use cases (see `createApiKeys`). */
export type ApiKeys = ReturnType<typeof createApiKeys>;
