import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expectTag,
  readBitString,
  readBoolean,
  readChildren,
  readElement,
  readUnsignedInteger,
  readWhole,
  readX509Time,
} from './reader.ts';
import { TAG } from './tlv.ts';

const refuses = { code: 'CA_CERTIFICATE_INVALID' };
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const element = (hex: string) => readElement(bytes(hex), 0);
const ascii = (tag: number, text: string) =>
  readElement(Uint8Array.of(tag, text.length, ...Buffer.from(text)), 0);

describe('the strict DER reader', () => {
  it('reads short and long lengths and stops at the element end', () => {
    const long = readElement(bytes(`048180${'00'.repeat(128)}ff`), 0);
    assert.equal(long.contents.byteLength, 128);
    assert.equal(long.encoded.byteLength, 131);
    assert.equal(element('0500').contents.byteLength, 0);
  });

  it('refuses BER length forms that DER forbids: indefinite, non-minimal, leading zero', () => {
    assert.throws(() => element('308005000000'), refuses); // indefinite
    assert.throws(() => element('04810100'), refuses); // long form for a short length
    assert.throws(() => element(`04820080${'00'.repeat(128)}`), refuses); // leading zero octet
    assert.throws(() => element(`0485${'00'.repeat(5)}`), refuses); // five length octets
  });

  it('refuses truncated headers, lengths and contents, and high tag numbers', () => {
    assert.throws(() => element('04'), refuses);
    assert.throws(() => element('0482'), refuses);
    assert.throws(() => element('040301'), refuses);
    assert.throws(() => element('1f0100'), refuses);
  });

  it('refuses bytes after a whole element and the wrong tag', () => {
    assert.equal(readWhole(bytes('0500'), TAG.NULL, 'NULL').tag, TAG.NULL);
    assert.throws(() => readWhole(bytes('050000'), TAG.NULL, 'NULL'), refuses);
    assert.throws(() => readWhole(bytes('0500'), TAG.SEQUENCE, 'SEQUENCE'), refuses);
  });

  it('walks the children of a constructed element, and refuses to walk a primitive one', () => {
    assert.deepEqual(
      readChildren(element('30050500020101'), 'SEQUENCE').map((child) => child.tag),
      [TAG.NULL, TAG.INTEGER],
    );
    assert.throws(() => readChildren(element('0400'), 'OCTET STRING'), refuses);
    assert.throws(() => readChildren(element('3003050001'), 'SEQUENCE'), refuses);
    assert.throws(() => expectTag(undefined, TAG.NULL, 'NULL'), refuses);
  });

  it('reads only minimal, non-negative INTEGERs', () => {
    assert.deepEqual(readUnsignedInteger(element('020100'), 'n'), bytes('00'));
    assert.deepEqual(readUnsignedInteger(element('02020080'), 'n'), bytes('0080'));
    for (const bad of ['0200', '020180', '0202007f', '0500']) {
      assert.throws(() => readUnsignedInteger(element(bad), 'n'), refuses, bad);
    }
  });

  it('reads only DER booleans', () => {
    assert.equal(readBoolean(element('0101ff'), 'b'), true);
    assert.equal(readBoolean(element('010100'), 'b'), false);
    for (const bad of ['010101', '0102ffff', '0100'])
      assert.throws(() => readBoolean(element(bad), 'b'), refuses);
  });

  it('reads BIT STRINGs whose padding is zero and declared', () => {
    assert.deepEqual(readBitString(element('03020204'), 'b'), { bytes: bytes('04'), unusedBits: 2 });
    for (const bad of ['03020205', '03020804', '030101', '0300']) {
      assert.throws(() => readBitString(element(bad), 'b'), refuses, bad);
    }
  });

  it('reads RFC 5280 times and refuses the forms it forbids', () => {
    assert.equal(readX509Time(ascii(TAG.UTC_TIME, '491231235959Z'), 't'), Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(readX509Time(ascii(TAG.UTC_TIME, '500101000000Z'), 't'), Date.UTC(1950, 0, 1));
    assert.equal(readX509Time(ascii(TAG.GENERALIZED_TIME, '20500101000000Z'), 't'), Date.UTC(2050, 0, 1));
    const bad: [number, string][] = [
      [TAG.GENERALIZED_TIME, '20261122000000Z'], // must be a UTCTime
      [TAG.UTC_TIME, '2611220000Z'], // no seconds
      [TAG.UTC_TIME, '261122000000+0100'], // not Z
      [TAG.GENERALIZED_TIME, '20501122000000.5Z'], // a fraction
      [TAG.UTC_TIME, '260230000000Z'], // 30 February
      [TAG.UTC_TIME, '261122240000Z'], // hour 24
      [TAG.UTC_TIME, '261122006000Z'], // minute 60
      [TAG.UTF8_STRING, '261122000000Z'], // not a time type
    ];
    for (const [tag, text] of bad) assert.throws(() => readX509Time(ascii(tag, text), 't'), refuses, text);
  });
});
