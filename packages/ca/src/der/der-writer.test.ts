import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOid, openssl, readDer } from '@orbis/testkit';
import {
  bitString,
  boolean,
  encodeDer,
  explicit,
  ia5String,
  implicit,
  integer,
  lengthOctets,
  namedBitString,
  nullValue,
  objectIdentifier,
  octetString,
  printableString,
  sequence,
  setOf,
  smallInteger,
  utf8String,
  type Der,
} from './index.ts';

const hex = (element: Der) => Buffer.from(encodeDer(element)).toString('hex');
const refusesEncoding = { code: 'CA_ENCODING_INVALID' };

describe('DER lengths (X.690 8.1.3, 10.1)', () => {
  const cases: [number, string][] = [
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
  ];
  for (const [length, header] of cases) {
    it(`writes a ${length}-byte contents length in the fewest octets (${header.slice(2)})`, () => {
      const element = octetString(new Uint8Array(length));
      assert.equal(hex(element.subarray(0, header.length / 2)), header);
      assert.equal(element.byteLength, header.length / 2 + length);
      assert.equal(readDer(element).contents.byteLength, length);
    });
  }

  it('refuses lengths that no four length octets hold, or that are not lengths', () => {
    assert.equal(lengthOctets(0xffff_ffff), 5);
    for (const bad of [-1, 0.5, 2 ** 32, Number.NaN]) assert.throws(() => lengthOctets(bad), refusesEncoding);
  });
});

describe('DER INTEGER (X.690 8.3)', () => {
  it('drops leading zeros, and pads a set high bit so the value stays positive', () => {
    assert.equal(hex(integer(Uint8Array.of(0, 0, 0x7f))), '02017f');
    assert.equal(hex(integer(Uint8Array.of(0x80))), '02020080');
    assert.equal(hex(integer(Uint8Array.of(0, 0, 0x80, 1))), '0203008001');
    assert.equal(hex(integer(Uint8Array.of(0, 0))), '020100');
  });

  it('writes small integers minimally and refuses negative ones and empty magnitudes', () => {
    assert.equal(hex(smallInteger(0)), '020100');
    assert.equal(hex(smallInteger(2)), '020102');
    assert.equal(hex(smallInteger(128)), '02020080');
    assert.equal(hex(smallInteger(256)), '02020100');
    assert.throws(() => smallInteger(-1), refusesEncoding);
    assert.throws(() => integer(new Uint8Array(0)), refusesEncoding);
  });
});

describe('DER OBJECT IDENTIFIER (X.690 8.19)', () => {
  it('encodes the arcs X.509 uses, and X.690 8.19.5 own example 2.999.3', () => {
    assert.equal(hex(objectIdentifier('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(objectIdentifier('2.5.29.56')), '0603551d38');
    assert.equal(hex(objectIdentifier('2.999.3')), '0603883703');
  });

  it('encodes a 2.25.<UUID> arc exactly as OpenSSL does, beyond 2^53 and 2^64', () => {
    const uuidArc = BigInt('0xffffffffffffffffffffffffffffffff').toString();
    for (const oid of [`2.25.${uuidArc}`, `2.25.${uuidArc}.1.1`, '2.25.9007199254740993']) {
      const ours = objectIdentifier(oid);
      assert.equal(
        hex(ours),
        hex(openssl(['asn1parse', '-genstr', `OID:${oid}`, '-noout', '-out', '-'], '')),
      );
      assert.equal(decodeOid(readDer(ours).contents), oid);
    }
  });

  it('refuses text that is not a dotted-decimal OID with a valid first and second arc', () => {
    for (const bad of [
      '',
      '1',
      '3.1',
      '1.40',
      '0.40.1',
      '1.2.03',
      '1..2',
      '1.2.',
      'a.b',
      '1.-2',
      `1.2.${'9'.repeat(300)}`,
    ]) {
      assert.throws(() => objectIdentifier(bad), refusesEncoding, bad);
    }
  });
});

describe('DER BIT STRING, BOOLEAN and NULL (X.690 8.6, 11.1, 11.2)', () => {
  it('writes named bits without trailing zero bits, as KeyUsage needs', () => {
    assert.equal(hex(namedBitString([0])), '03020780'); // digitalSignature
    assert.equal(hex(namedBitString([5])), '03020204'); // keyCertSign
    assert.equal(hex(namedBitString([5, 0])), '03020284');
    assert.equal(hex(namedBitString([8])), '0303070080');
    assert.equal(hex(namedBitString([])), '030100');
    assert.throws(() => namedBitString([-1]), refusesEncoding);
  });

  it('refuses non-zero padding bits, a bad unused-bit count, and padding on an empty string', () => {
    assert.equal(hex(bitString(Uint8Array.of(0xf0), 4)), '030204f0');
    assert.throws(() => bitString(Uint8Array.of(0xf1), 4), refusesEncoding);
    assert.throws(() => bitString(Uint8Array.of(0), 8), refusesEncoding);
    assert.throws(() => bitString(new Uint8Array(0), 1), refusesEncoding);
  });

  it('writes TRUE as 0xff and NULL with no contents', () => {
    assert.equal(hex(boolean(true)), '0101ff');
    assert.equal(hex(boolean(false)), '010100');
    assert.equal(hex(nullValue()), '0500');
  });
});

describe('DER strings', () => {
  it('writes UTF-8 for any well-formed text and refuses a lone surrogate', () => {
    assert.equal(hex(utf8String('Orbis')), '0c054f72626973');
    assert.equal(hex(utf8String('Zürich')), '0c075ac3bc72696368');
    assert.throws(() => utf8String('a\ud800b'), refusesEncoding);
  });

  it('keeps PrintableString and IA5String to their character sets', () => {
    assert.equal(
      hex(printableString("A z0 '()+,-./:=?")),
      `1310${Buffer.from("A z0 '()+,-./:=?").toString('hex')}`,
    );
    for (const bad of ['a@b', 'a*b', 'a_b', 'é']) assert.throws(() => printableString(bad), refusesEncoding);
    assert.equal(hex(ia5String('urn:x')), '160575726e3a78');
    assert.throws(() => ia5String('é'), refusesEncoding);
  });
});

describe('DER constructed elements and tags', () => {
  it('nests SEQUENCEs into one buffer that equals the elements written by hand', () => {
    const nested = encodeDer(
      sequence(smallInteger(1), sequence(nullValue(), boolean(true)), octetString(Uint8Array.of(7))),
    );
    assert.equal(hex(nested), '300d020101300505000101ff040107');
  });

  it('sorts SET OF elements by their encodings (X.690 11.6), whatever order they come in', () => {
    const set = encodeDer(setOf(smallInteger(3), utf8String('a'), smallInteger(1)));
    assert.equal(hex(set), '3109020101020103' + '0c0161');
    assert.equal(hex(encodeDer(setOf(smallInteger(3)))), '3103020103');
    assert.equal(hex(encodeDer(setOf(nullValue(), nullValue()))), '310405000500');
  });

  it('writes [n] EXPLICIT as constructed and [n] IMPLICIT keeping primitive or constructed form', () => {
    assert.equal(hex(encodeDer(explicit(0, smallInteger(2)))), 'a003020102');
    assert.equal(hex(encodeDer(implicit(6, ia5String('u')))), '860175');
    assert.equal(hex(encodeDer(implicit(1, sequence(nullValue())))), 'a1020500');
    assert.throws(() => explicit(31, nullValue()), refusesEncoding);
    assert.throws(() => implicit(-1, nullValue()), refusesEncoding);
    assert.throws(() => implicit(2, new Uint8Array(0)), refusesEncoding);
    assert.throws(() => implicit(2, Uint8Array.of(0x1f, 0)), refusesEncoding);
  });

  it('writes a 70,000-byte element with a three-octet length that a reader takes back', () => {
    const big = encodeDer(sequence(octetString(new Uint8Array(70_000).fill(1)), nullValue()));
    assert.equal(hex(big.subarray(0, 5)), '3083011177'); // 70,007 bytes of contents
    assert.equal(readDer(big).children[0]?.contents.byteLength, 70_000);
  });
});
