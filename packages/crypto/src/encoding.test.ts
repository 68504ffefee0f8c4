import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64Url, encodeBase64Url, encodeHex } from './encoding.ts';

const code = { code: 'CRYPTO_BASE64URL_INVALID' };

describe('base64url', () => {
  it('round-trips every length, including views into larger buffers', () => {
    const backing = Uint8Array.from({ length: 40 }, (_, index) => (index * 37) & 0xff);
    for (let length = 0; length < 32; length += 1) {
      const bytes = backing.subarray(3, 3 + length);
      assert.deepEqual(decodeBase64Url(encodeBase64Url(bytes)), Uint8Array.from(bytes));
    }
  });

  it('uses the URL-safe alphabet without padding (RFC 4648 section 5)', () => {
    assert.equal(encodeBase64Url(Uint8Array.of(0xfb, 0xff)), '-_8');
  });

  it('refuses padding, the standard alphabet and whitespace', () => {
    assert.throws(() => decodeBase64Url('-_8='), code);
    assert.throws(() => decodeBase64Url('+/8'), code);
    assert.throws(() => decodeBase64Url('AA AA'), code);
  });

  it('refuses a length no byte string encodes to', () => {
    assert.throws(() => decodeBase64Url('AAAAA'), code);
  });

  it('refuses a second spelling of the same bytes (non-zero trailing bits)', () => {
    assert.deepEqual(decodeBase64Url('AQ'), Uint8Array.of(1));
    assert.throws(() => decodeBase64Url('AR'), code);
  });
});

describe('encodeHex', () => {
  it('writes lowercase hex of exactly the view it is given', () => {
    const backing = Uint8Array.of(0, 0xab, 0xcd, 0xef);
    assert.equal(encodeHex(backing.subarray(1)), 'abcdef');
  });
});
