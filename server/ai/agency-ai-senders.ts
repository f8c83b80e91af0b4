/**
 * Per-agency AI senders: who writes an agency's AI messages (server/metering/ai-messages.ts explains the markers
 * and why HighLevel leaves this to us). A marketplace deployment serves many agencies, so each agency names its
 * own senders in the settings API; the deployment's `AI_MESSAGE_SENDERS` applies to every agency on top.
 *
 * The intake asks for the senders of a sub-account on every outbound message, so answers are cached in this
 * process for `ttlMs` (default 30 s): a change made here clears this process's cache at once; other replicas pick
 * it up within the TTL.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import { badRequest, notFound } from '../http/errors';
import { NO_AI_SENDERS, parseAiSenders, type AiSenders } from '../metering/ai-messages';

/** At most this many sub-accounts' answers are cached; past it the cache starts again empty. */
const MAX_CACHED = 10_000;
/** At most this many markers per agency. */
const MAX_MARKERS = 100;

/** The union of two sets of AI senders. */
function mergeAiSenders(a: AiSenders, b: AiSenders): AiSenders {
  return {
    userIds: new Set([...a.userIds, ...b.userIds]),
    conversationProviderIds: new Set([...a.conversationProviderIds, ...b.conversationProviderIds]),
    sources: new Set([...a.sources, ...b.sources]),
    unattended: a.unattended || b.unattended,
  };
}

/**
 * @param deps.deployment the deployment's senders (`AI_MESSAGE_SENDERS`), applied to every agency.
 * @param deps.ttlMs how long a sub-account's answer is cached, milliseconds.
 */
export function createAgencyAiSenders(deps: { db: Database; deployment?: AiSenders; ttlMs?: number; now?: () => number }) {
  const deployment = deps.deployment ?? NO_AI_SENDERS;
  const ttlMs = deps.ttlMs ?? 30_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { senders: AiSenders; until: number }>();

  const parsed = new Map<string, AiSenders>();
  /** The senders in force for an agency whose stored markers are `markers` (null: none), merged with the deployment's. */
  function fromMarkers(markers: string | null): AiSenders {
    if (!markers) return deployment;
    const hit = parsed.get(markers);
    if (hit) return hit;
    // Stored markers were checked when set; a marker no longer understood is left out rather than failing intake.
    const own = safeParse(markers);
    const senders = own === NO_AI_SENDERS ? deployment : mergeAiSenders(deployment, own);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(markers, senders);
    return senders;
  }

  return {
    fromMarkers,
    /**
     * The senders in force for a sub-account: the deployment's plus its agency's. A sub-account Meterbridge does
     * not know gets the deployment's alone.
     * @throws the database error.
     */
    async forLocation(locationId: string): Promise<AiSenders> {
      const hit = cache.get(locationId);
      if (hit && hit.until > now()) return hit.senders;
      const [row] = await selectRows<{ markers: string }>(
        deps.db,
        sql`select a.ai_message_senders as markers from sub_accounts s join agencies a on a.company_id = s.company_id
            where s.location_id = ${locationId}`,
      );
      const senders = fromMarkers(row?.markers ?? null);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(locationId, { senders, until: now() + ttlMs });
      return senders;
    },

    /**
     * The agency's own markers, in the order set.
     * @throws AppError 404 when the agency is unknown.
     */
    async get(companyId: string): Promise<{ markers: string[] }> {
      const [row] = await selectRows<{ markers: string }>(deps.db, sql`select ai_message_senders as markers from agencies where company_id = ${companyId}`);
      if (!row) throw notFound(`No agency ${companyId}.`);
      return { markers: splitMarkers(row.markers) };
    },

    /**
     * Replaces the agency's markers (duplicates dropped).
     * @throws AppError 400 `invalid_marker` naming the first entry that is not `user:<id>`, `provider:<id>`,
     *   `source:<source>` or `unattended`, or when there are more than 100; 404 when the agency is unknown.
     */
    async set(companyId: string, markers: string[]): Promise<{ markers: string[] }> {
      const cleaned = [...new Set(markers.map((m) => m.trim()).filter(Boolean))];
      if (cleaned.length > MAX_MARKERS) throw badRequest('invalid_marker', `At most ${MAX_MARKERS} markers.`);
      for (const marker of cleaned) {
        try {
          if (marker.includes(',')) throw new Error(`"${marker}" holds a comma; give one marker per entry`);
          parseAiSenders(marker);
        } catch (err) {
          throw badRequest('invalid_marker', `${(err as Error).message}.`);
        }
      }
      const rows = await selectRows<{ companyId: string }>(
        deps.db,
        sql`update agencies set ai_message_senders = ${cleaned.join(',')}, updated_at = now() where company_id = ${companyId}
            returning company_id as "companyId"`,
      );
      if (rows.length === 0) throw notFound(`No agency ${companyId}.`);
      cache.clear();
      return { markers: cleaned };
    },
  };
}

/** The agency AI senders use case (see `createAgencyAiSenders`). */
export type AgencyAiSenders = ReturnType<typeof createAgencyAiSenders>;

function splitMarkers(text: string): string[] {
  return text.split(',').map((m) => m.trim()).filter(Boolean);
}

function safeParse(text: string): AiSenders {
  const kept = splitMarkers(text).filter((marker) => {
    try {
      parseAiSenders(marker);
      return true;
    } catch {
      return false;
    }
  });
  return parseAiSenders(kept.join(','));
}
