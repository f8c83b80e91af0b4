/**
 * A sub-account's active phone numbers, as HighLevel lists them.
 *
 * `GET /phone-system/numbers/location/{locationId}` (operation `active-numbers`, "List active numbers"; HighLevel API
 * docs, GoHighLevel/highlevel-api-docs apps/phone-system.json at 0af86a4), with a Sub-Account (Location) token, scope
 * `phonenumbers.read`, header `Version: 2021-07-28`. Query: `page` (0-based, default 0), `pageSize` (1–1,000),
 * `searchFilter`, `skipNumberPool` (default **true**: numbers assigned to number pools are left out unless it is
 * false). Answer: `{ numbers: DetailedPhoneNumberDto[], isUnderGhl, pageSize, page, accountStatus }`; the documented
 * "no numbers" example is `{ numbers: [], total: 0 }`. Each number carries `phoneNumber` (E.164) and `sid` ("Phone
 * number SID (unique identifier)"), both required, plus `type`, `countryCode`, `capabilities`, `dateAdded`, `origin`.
 *
 * Meterbridge asks with `skipNumberPool=false`: a number in a pool is rented like any other. The answer carries no
 * total, so pages are read until one comes back shorter than `pageSize`.
 */
import { z } from 'zod';
import type { HighLevelApiClient } from '../highlevel/api-client';
import { HIGHLEVEL_ENDPOINTS } from '../highlevel/endpoints';

/** Numbers asked for per page: HighLevel's documented maximum. */
export const NUMBERS_PAGE_SIZE = 1_000;
/** Pages read at most per sub-account (a safety stop against an API that never returns a short page). */
const MAX_PAGES = 50;

/** One active number: HighLevel's `sid` identifies it; the rest is kept for the audit trail. */
export interface ActiveNumber {
  sid: string;
  phoneNumber: string;
  type: string | null;
  countryCode: string | null;
  dateAdded: string | null;
}

/** HighLevel answered 2xx with a body that is not a list of numbers. */
export class NumbersShapeError extends Error {
  override name = 'NumbersShapeError';
}

const numberSchema = z.looseObject({
  sid: z.string().min(1).max(200),
  phoneNumber: z.string().min(1).max(50),
  type: z.string().max(50).nullish(),
  countryCode: z.string().max(10).nullish(),
  dateAdded: z.string().max(100).nullish(),
});
const pageSchema = z.looseObject({ numbers: z.array(numberSchema).max(NUMBERS_PAGE_SIZE) });

/**
 * Every active number of the sub-account, read with its own token (minted from the agency's grant when needed).
 * @returns the numbers, each `sid` once.
 * @throws HighLevelApiError (HighLevel's status and message), ReinstallRequiredError (no working grant),
 *   HighLevelOAuthError (token endpoint failure), NumbersShapeError (a 2xx body that is not a list of numbers).
 */
export async function listActiveNumbers(api: HighLevelApiClient, locationId: string): Promise<ActiveNumber[]> {
  const bySid = new Map<string, ActiveNumber>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await api.request<unknown>({
      method: HIGHLEVEL_ENDPOINTS.phoneNumbers.method,
      path: HIGHLEVEL_ENDPOINTS.phoneNumbers.path.replace('{locationId}', encodeURIComponent(locationId)),
      params: { page, pageSize: NUMBERS_PAGE_SIZE, skipNumberPool: false },
      version: HIGHLEVEL_ENDPOINTS.phoneNumbers.version,
      auth: { locationId },
    });
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      const detail = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new NumbersShapeError(`GET /phone-system/numbers/location/{locationId} answered with an unexpected body: ${detail}`);
    }
    for (const n of parsed.data.numbers) {
      bySid.set(n.sid, { sid: n.sid, phoneNumber: n.phoneNumber, type: n.type ?? null, countryCode: n.countryCode ?? null, dateAdded: n.dateAdded ?? null });
    }
    if (parsed.data.numbers.length < NUMBERS_PAGE_SIZE) break;
  }
  return [...bySid.values()];
}
