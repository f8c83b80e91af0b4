/**
 * A short-lived cache of what Stripe answered, per (agency, customer): invoices, the next invoice, the card. Stripe
 * stays the truth; the cache only spares Stripe (and the page) repeated reads within `ttlMs`. A webhook about the
 * customer (any invoice.* event, a completed Checkout) drops the customer's entries at once, so a page read after
 * the event sees Stripe's new state. Per process: with several replicas, another replica's entry lives at most `ttlMs`.
 */

/** The default life of an entry: 30 seconds. */
export const READ_CACHE_TTL_MS = 30_000;

export interface ReadCache {
  /** The cached value of `key` for the customer, or what `load` resolves to (cached only when it resolves). */
  get<T>(companyId: string, customerId: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Drops every entry of the customer. */
  invalidateCustomer(companyId: string, customerId: string): void;
  /** Drops the agency-wide entries of the agency (its invoice lists across customers). */
  invalidateAgency(companyId: string): void;
}

/** @param now clock in milliseconds (tests move it). */
export function createReadCache(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): ReadCache {
  const ttl = options.ttlMs ?? READ_CACHE_TTL_MS;
  const max = options.maxEntries ?? 10_000;
  const clock = options.now ?? Date.now;
  const entries = new Map<string, { at: number; value: Promise<unknown> }>();
  const prefix = (companyId: string, customerId: string) => `${companyId}\u0000${customerId}\u0000`;

  return {
    async get<T>(companyId: string, customerId: string, key: string, load: () => Promise<T>): Promise<T> {
      const id = `${prefix(companyId, customerId)}${key}`;
      const hit = entries.get(id);
      if (hit && clock() - hit.at < ttl) return hit.value as Promise<T>;
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      const value = load();
      entries.set(id, { at: clock(), value });
      // A failure is not cached: the next read asks Stripe again.
      value.catch(() => (entries.get(id)?.value === value ? entries.delete(id) : undefined));
      return value;
    },
    invalidateCustomer(companyId, customerId) {
      const start = prefix(companyId, customerId);
      for (const id of [...entries.keys()]) if (id.startsWith(start)) entries.delete(id);
      this.invalidateAgency(companyId);
    },
    invalidateAgency(companyId) {
      const start = prefix(companyId, '*');
      for (const id of [...entries.keys()]) if (id.startsWith(start)) entries.delete(id);
    },
  };
}

/** The customer id under which agency-wide lists are cached. */
export const AGENCY_WIDE = '*';
