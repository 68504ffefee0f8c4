import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64Url, decodePem, encodeBase64Url, encodeHex, encodePem } from './encoding.ts';

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
    assert.deepEqual(decodeBase64Url('AAE'), Uint8Array.of(0, 1));
    assert.throws(() => decodeBase64Url('AAF'), code);
  });

  it('accepts exactly the texts that re-encode to themselves, for every last character', () => {
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const prefix of ['A', 'AA', 'AAAAA', 'AAAAAA']) {
      for (const last of digits) {
        const text = prefix + last;
        const canonical = Buffer.from(text, 'base64url').toString('base64url') === text;
        if (canonical) assert.equal(encodeBase64Url(decodeBase64Url(text)), text);
        else assert.throws(() => decodeBase64Url(text), code, text);
      }
    }
  });
});

describe('encodeHex', () => {
  it('writes lowercase hex of exactly the view it is given', () => {
    const backing = Uint8Array.of(0, 0xab, 0xcd, 0xef);
    assert.equal(encodeHex(backing.subarray(1)), 'abcdef');
  });
});

describe('PEM', () => {
  const der = Uint8Array.from({ length: 100 }, (_, index) => index);

  it('armours DER in lines of 64 base64 characters and reads it back, LF or CRLF', () => {
    const pem = encodePem(der);
    const lines = pem.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.deepEqual(
      lines.slice(1, -1).map((line) => line.length),
      [64, 64, 8],
    );
    assert.deepEqual(decodePem(pem), der);
    assert.deepEqual(decodePem(`\n${pem.replaceAll('\n', '\r\n')}  `), der);
    // A body of exactly 64 characters ends without an empty line.
    assert.doesNotMatch(encodePem(new Uint8Array(48)), /\n\n/);
    assert.deepEqual(decodePem(encodePem(der, 'PUBLIC KEY'), 'PUBLIC KEY'), der);
  });

  it('refuses another label, two blocks, text inside, an empty block and base64 that does not round-trip', () => {
    const pem = encodePem(der);
    const refused = { code: 'CRYPTO_PEM_INVALID' };
    assert.throws(() => decodePem(pem, 'PUBLIC KEY'), refused);
    assert.throws(() => decodePem(pem + pem), refused);
    assert.throws(() => decodePem(pem.replace('\n', '\nHeader: x\n')), refused);
    assert.throws(() => decodePem('-----BEGIN CERTIFICATE-----\n=\n-----END CERTIFICATE-----\n'), refused);
    // 'Yx==' decodes to the same byte as 'Yw==' with non-zero spare bits: not canonical.
    assert.ok(pem.includes('Yw==\n'));
    assert.throws(() => decodePem(pem.replace('Yw==\n', 'Yx==\n')), refused);
    assert.throws(() => decodePem('not PEM at all'), refused);
    // Nothing to armour gives an empty block, which nothing reads back.
    assert.throws(() => decodePem(encodePem(new Uint8Array(0))), refused);
  });
});
