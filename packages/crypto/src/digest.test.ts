import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constantTimeEqual, sha256 } from './digest.ts';
import { encodeHex } from './encoding.ts';

describe('sha256', () => {
  it('matches the FIPS 180-2 test vector for "abc"', () => {
    assert.equal(
      encodeHex(sha256(new TextEncoder().encode('abc'))),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('constantTimeEqual', () => {
  it('is true only for identical bytes', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true);
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false);
  });

  it('is false for a prefix, without comparing bytes of different lengths', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
  });
});
