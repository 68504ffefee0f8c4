import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { derToP1363, p1363ToDer } from './signature-encoding.ts';

const malformed = { code: 'CRYPTO_SIGNATURE_MALFORMED' };
const hex = (text: string) => Uint8Array.from(Buffer.from(text.replaceAll(' ', ''), 'hex'));

function scalars(r: string, s: string): Uint8Array {
  return hex(r.padStart(64, '0') + s.padStart(64, '0'));
}

describe('DER and IEEE P1363 signature encodings', () => {
  it('converts exactly as OpenSSL encodes, both ways, for many signatures', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (let index = 0; index < 200; index += 1) {
      const data = Uint8Array.of(index);
      const der = new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }));
      const p1363 = derToP1363(der);
      assert.equal(p1363.byteLength, 64);
      assert.deepEqual(p1363ToDer(p1363), der);
    }
  });

  it('pads a scalar whose high bit is set and strips leading zero bytes', () => {
    const der = p1363ToDer(scalars('80' + '00'.repeat(31), '01'));
    assert.deepEqual(der, hex('3026 0221 0080' + '00'.repeat(31) + '0201 01'));
    assert.deepEqual(derToP1363(der), scalars('80' + '00'.repeat(31), '01'));
  });

  it('refuses a P1363 signature that is not 64 bytes', () => {
    assert.throws(() => p1363ToDer(new Uint8Array(63)), malformed);
  });

  it('refuses DER that is not a SEQUENCE of two INTEGERs', () => {
    assert.throws(() => derToP1363(hex('3106 0201 01 0201 01')), malformed); // SET, not SEQUENCE
    assert.throws(() => derToP1363(hex('3006 0201 01 0201')), malformed); // too short
    assert.throws(() => derToP1363(hex('3006 0401 01 0201 01')), malformed); // OCTET STRING
    assert.throws(() => derToP1363(hex('3006 0201 01 0401 01')), malformed);
  });

  it('refuses a SEQUENCE length that does not match, and long-form lengths', () => {
    assert.throws(() => derToP1363(hex('3007 0201 01 0201 01')), malformed);
    assert.throws(() => derToP1363(hex('308106 0201 01 0201 01')), malformed);
  });

  it('refuses bytes after the two INTEGERs inside the SEQUENCE', () => {
    assert.throws(() => derToP1363(hex('3009 0201 01 0201 01 0500 00')), malformed);
  });

  it('refuses INTEGERs of length zero, over 33 bytes, or running past the end', () => {
    assert.throws(() => derToP1363(hex('3007 0200 0203 010203')), malformed);
    assert.throws(() => derToP1363(hex('3024 0222' + '01'.repeat(34))), malformed);
    assert.throws(() => derToP1363(hex('3008 0201 01 0205 010203')), malformed);
  });

  it('refuses negative and non-minimal INTEGERs (a second encoding of the same signature)', () => {
    assert.throws(() => derToP1363(hex('3006 0201 81 0201 01')), malformed); // negative r
    assert.throws(() => derToP1363(hex('3007 0202 0001 0201 01')), malformed); // needless zero in r
    assert.throws(() => derToP1363(hex('3007 0201 01 0202 0001')), malformed); // needless zero in s
  });

  it('refuses a 33-byte INTEGER that is wider than a P-256 scalar', () => {
    assert.throws(() => derToP1363(hex('3026 0221 01' + '00'.repeat(32) + '0201 01')), malformed);
  });

  it('reads a zero scalar (which then fails verification, not parsing)', () => {
    assert.deepEqual(derToP1363(hex('3006 0201 00 0201 01')), scalars('00', '01'));
  });
});
