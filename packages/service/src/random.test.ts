import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSystemRandom } from './random.ts';

describe('the service randomness pool', () => {
  it('never hands out the same bytes twice across pool refills', () => {
    const random = createSystemRandom();
    const seen = new Set<string>();
    for (let index = 0; index < 2000; index += 1) {
      const bytes = random.bytes(16);
      assert.equal(bytes.byteLength, 16);
      const hex = Buffer.from(bytes).toString('hex');
      assert.ok(!seen.has(hex), 'a 16-byte draw repeated');
      seen.add(hex);
    }
  });

  it('returns copies: changing one draw cannot change the next', () => {
    const random = createSystemRandom();
    const first = random.bytes(32);
    first.fill(0);
    const second = random.bytes(32);
    assert.notDeepEqual(second, new Uint8Array(32));
    assert.notEqual(first.buffer, second.buffer);
  });

  it('serves requests larger than the pooled size directly, and empty ones', () => {
    const random = createSystemRandom();
    assert.equal(random.bytes(5000).byteLength, 5000);
    assert.equal(random.bytes(0).byteLength, 0);
    // About half the bits of 4 KiB of CSPRNG output are set; all-zero would mean no fill.
    const large = random.bytes(4096);
    const ones = large.reduce((count, byte) => count + byte.toString(2).replaceAll('0', '').length, 0);
    assert.ok(ones > 15_000 && ones < 17_800, `${ones} bits set of 32768`);
  });
});
