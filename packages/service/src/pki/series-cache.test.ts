import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSeriesCache } from './series-cache.ts';

describe('series cache', () => {
  it('forgets entries after their time to live, and the least recently used beyond its size', () => {
    let now = 0;
    const cache = createSeriesCache<number>(() => now, { maxEntries: 2, ttlMs: 100 });
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1); // a is now the most recently used
    cache.set('c', 3);
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
    now = 100;
    assert.equal(cache.get('a'), undefined);
    cache.set('a', 4);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
  });
});
