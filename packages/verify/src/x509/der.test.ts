import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertificateError } from '../errors.ts';
import {
  decodeBitString,
  decodeBoolean,
  decodeIa5,
  decodeOid,
  decodePrintable,
  decodeSmallUnsigned,
  decodeUnsigned,
  decodeUtf8,
  DerReader,
  readWhole,
  TAG,
  type DerElement,
} from './der.ts';
import { generalizedTime, hex, oid, seq, set, tlv, utcTime, utf8 } from './der-builder.test-helpers.ts';
import { parseName } from './name.ts';
import { decodeTime } from './time.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CertificateError, `not a CertificateError: ${String(error)}`);
    return error.code;
  }
}

const element = (bytes: Uint8Array): DerElement => new DerReader(bytes, 'test').next('element');
const refused = (run: () => unknown) => assert.equal(codeOf(run), 'CERT_MALFORMED');

describe('the DER reader refuses every second encoding of one value', () => {
  it('reads short, one-octet and two-octet lengths', () => {
    assert.equal(element(tlv(0x04, new Uint8Array(5))).content.byteLength, 5);
    assert.equal(element(tlv(0x04, new Uint8Array(200))).content.byteLength, 200);
    assert.equal(element(tlv(0x04, new Uint8Array(300))).content.byteLength, 300);
  });

  it('rejects non-minimal lengths (0x81 for under 128, 0x82 00 nn)', () => {
    refused(() => element(hex('04 81 05 0000000000')));
    refused(() => element(Buffer.concat([hex('04 82 00 c8'), new Uint8Array(200)])));
  });

  it('rejects the BER indefinite length and length forms too long for a bounded certificate', () => {
    refused(() => element(hex('30 80 0000')));
    refused(() => element(hex('04 83 000001 00')));
  });

  it('rejects multi-byte tags, truncated headers and contents that run past their parent', () => {
    refused(() => element(hex('1f 81 01 00')));
    refused(() => element(hex('04')));
    refused(() => element(hex('04 81')));
    refused(() => element(hex('04 82 01')));
    refused(() => element(hex('04 05 0000')));
    refused(() => element(new Uint8Array(0)));
  });

  it('rejects an unexpected tag, and bytes after the last element', () => {
    refused(() => readWhole(hex('04 00'), TAG.sequence, 'test'));
    refused(() => readWhole(hex('30 00 00'), TAG.sequence, 'test'));
    const reader = new DerReader(hex('04 00 05 00'), 'test');
    assert.equal(reader.optional(TAG.null, 'null'), undefined);
    assert.equal(reader.optional(TAG.octetString, 'octets')?.tag, TAG.octetString);
    assert.equal(reader.peekTag(), TAG.null);
    assert.throws(() => reader.end(), CertificateError);
  });

  it('reads BOOLEAN only as 0x00 or 0xFF in one octet', () => {
    assert.equal(decodeBoolean(element(hex('01 01 ff')), 'b'), true);
    assert.equal(decodeBoolean(element(hex('01 01 00')), 'b'), false);
    refused(() => decodeBoolean(element(hex('01 01 01')), 'b'));
    refused(() => decodeBoolean(element(hex('01 02 ff ff')), 'b'));
  });

  it('reads INTEGER only minimal and non-negative', () => {
    assert.deepEqual(decodeUnsigned(element(hex('02 01 00')), 'i'), hex('00'));
    assert.deepEqual(decodeUnsigned(element(hex('02 02 00 80')), 'i'), hex('80'));
    assert.deepEqual(decodeUnsigned(element(hex('02 02 01 00')), 'i'), hex('0100'));
    refused(() => decodeUnsigned(element(hex('02 00')), 'i'));
    refused(() => decodeUnsigned(element(hex('02 01 80')), 'i'));
    refused(() => decodeUnsigned(element(hex('02 02 00 7f')), 'i'));
    refused(() => decodeUnsigned(element(hex('02 02 ff ff')), 'i'));
    assert.equal(decodeSmallUnsigned(element(hex('02 02 00 ff')), 255, 'i'), 255);
    refused(() => decodeSmallUnsigned(element(hex('02 02 01 00')), 255, 'i'));
  });

  it('reads OBJECT IDENTIFIERs with huge arcs, under each root', () => {
    const arc = `2.25.${BigInt('0x6f0e3c2a9b1d4e8fa5c72d4b6e8f0a1c').toString()}.2.1`;
    for (const dotted of [arc, '0.9.2342.19200300.100.1.25', '1.2.840.10045.4.3.2', '2.5.29.19', '2.999.1']) {
      assert.equal(decodeOid(element(oid(dotted)), 'o'), dotted);
    }
  });

  it('rejects empty OIDs, non-minimal subidentifiers and unfinished ones', () => {
    refused(() => decodeOid(element(hex('06 00')), 'o'));
    refused(() => decodeOid(element(hex('06 03 55 80 1d')), 'o'));
    refused(() => decodeOid(element(hex('06 02 55 9d')), 'o'));
  });

  it('reads BIT STRINGs only with zero unused bits and a sane count', () => {
    assert.deepEqual(decodeBitString(element(hex('03 02 07 80')), 'b'), { bytes: hex('80'), unusedBits: 7 });
    assert.deepEqual(decodeBitString(element(hex('03 01 00')), 'b').bytes, new Uint8Array(0));
    refused(() => decodeBitString(element(hex('03 00')), 'b'));
    refused(() => decodeBitString(element(hex('03 02 08 00')), 'b'));
    refused(() => decodeBitString(element(hex('03 01 01')), 'b'));
    refused(() => decodeBitString(element(hex('03 02 01 81')), 'b'));
  });

  it('reads IA5, UTF-8 and PrintableString strictly', () => {
    assert.equal(decodeIa5(hex('41 42'), 's'), 'AB');
    refused(() => decodeIa5(hex('41 c3 a9'), 's'));
    assert.equal(decodeUtf8(Buffer.from('é', 'utf8'), 's'), 'é');
    refused(() => decodeUtf8(hex('c3'), 's'));
    assert.equal(
      decodePrintable(Buffer.from("Orbis (test) CA-1, x=y?/:.+'"), 's'),
      "Orbis (test) CA-1, x=y?/:.+'",
    );
    refused(() => decodePrintable(Buffer.from('a@b'), 's'));
    refused(() => decodePrintable(hex('ff'), 's'));
  });
});

describe('certificate times follow RFC 5280 4.1.2.5 exactly', () => {
  const time = (bytes: Uint8Array) => decodeTime(element(bytes), 't');

  it('reads UTCTime with the 1950–2049 window and GeneralizedTime from 2050', () => {
    assert.equal(time(utcTime('491231235959Z')), Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(time(utcTime('500101000000Z')), Date.UTC(1950, 0, 1));
    assert.equal(time(generalizedTime('20500101000000Z')), Date.UTC(2050, 0, 1));
    assert.equal(time(generalizedTime('99991231235959Z')), Date.UTC(9999, 11, 31, 23, 59, 59));
    assert.equal(time(utcTime('240229120000Z')), Date.UTC(2024, 1, 29, 12));
  });

  it('rejects GeneralizedTime before 2050, which has a UTCTime spelling', () => {
    refused(() => time(generalizedTime('20491231235959Z')));
  });

  it('rejects fractions, offsets, missing seconds and other tags', () => {
    for (const text of [
      '2601010000Z',
      '260101000000',
      '260101000000+0100',
      '260101000000.5Z',
      '26010100000aZ',
    ]) {
      refused(() => time(utcTime(text)));
    }
    refused(() => time(generalizedTime('20500101000000.123Z')));
    refused(() => time(tlv(0x04, Buffer.from('260101000000Z'))));
  });

  it('rejects dates and times that do not exist', () => {
    for (const text of [
      '261301000000Z',
      '260001000000Z',
      '260100000000Z',
      '260230000000Z',
      '250229000000Z',
    ]) {
      refused(() => time(utcTime(text)));
    }
    for (const text of ['260101240000Z', '260101006000Z', '260101000060Z'])
      refused(() => time(utcTime(text)));
  });
});

describe('names', () => {
  const cn = (value: Uint8Array) => seq(oid('2.5.4.3'), value);
  const name = (...rdns: Uint8Array[]) => parseName(element(seq(...rdns)), 'name');

  it('keeps the DER and finds the one common name, UTF8String or PrintableString', () => {
    const parsed = name(set(cn(utf8('device'))), set(seq(oid('2.5.4.10'), utf8('Orbis'))));
    assert.equal(parsed.commonName, 'device');
    assert.equal(parsed.rdns.length, 2);
    assert.equal(name(set(cn(tlv(0x13, Buffer.from('Printable'))))).commonName, 'Printable');
    assert.equal(name().commonName, undefined);
  });

  it('gives no common name when there are two, or one in another string type', () => {
    assert.equal(name(set(cn(utf8('a'))), set(cn(utf8('b')))).commonName, undefined);
    assert.equal(name(set(cn(utf8('a')), cn(utf8('b')))).commonName, undefined);
    assert.equal(name(set(cn(tlv(0x1e, hex('0061'))))).commonName, undefined);
  });

  it('rejects empty relative names, malformed attributes and undecodable common names', () => {
    refused(() => name(set()));
    refused(() => name(set(seq(oid('2.5.4.3'), utf8('a'), utf8('b')))));
    refused(() => name(set(seq(utf8('a'), utf8('b')))));
    refused(() => name(set(cn(tlv(0x0c, hex('ff'))))));
  });
});
