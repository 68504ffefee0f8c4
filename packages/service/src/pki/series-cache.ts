/**
 * A small least-recently-used cache with a time to live, for the anchors of the tenants that
 * devices are connecting for. Anchor rows never change once written, so a stale entry can only
 * miss a newer anchor; callers reload when what they need is missing.
 */
export interface SeriesCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
}

/** Tenants whose anchors one process keeps parsed. */
export const MAX_CACHED_SERIES = 10_000;
/** How long loaded anchors are reused before the database is asked again, in milliseconds. */
export const SERIES_CACHE_TTL_MS = 5 * 60 * 1000;

export function createSeriesCache<V>(
  now: () => number,
  { maxEntries = MAX_CACHED_SERIES, ttlMs = SERIES_CACHE_TTL_MS } = {},
): SeriesCache<V> {
  const entries = new Map<string, { readonly value: V; readonly loadedAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (now() - entry.loadedAt >= ttlMs) return undefined;
      entries.set(key, entry); // most recently used last
      return entry.value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, loadedAt: now() });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    delete(key) {
      entries.delete(key);
    },
  };
}
