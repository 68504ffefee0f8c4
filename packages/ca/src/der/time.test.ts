import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { derText, readDer } from '@orbis/testkit';
import { readX509Time } from './reader.ts';
import {
  EARLIEST_X509_TIME_MS,
  generalizedTime,
  LATEST_X509_TIME_MS,
  TAG,
  utcTime,
  x509Time,
} from './index.ts';

const refusesEncoding = { code: 'CA_ENCODING_INVALID' };

function shown(element: Uint8Array): [number, string] {
  const node = readDer(element);
  return [node.tag, derText(node)];
}

describe('X.509 times (RFC 5280 4.1.2.5)', () => {
  it('uses UTCTime through 2049 and GeneralizedTime from 2050', () => {
    assert.deepEqual(shown(x509Time(Date.UTC(2049, 11, 31, 23, 59, 59))), [TAG.UTC_TIME, '491231235959Z']);
    assert.deepEqual(shown(x509Time(Date.UTC(2050, 0, 1))), [TAG.GENERALIZED_TIME, '20500101000000Z']);
  });

  it('uses UTCTime from 1950 and GeneralizedTime before it', () => {
    assert.deepEqual(shown(x509Time(Date.UTC(1950, 0, 1))), [TAG.UTC_TIME, '500101000000Z']);
    assert.deepEqual(shown(x509Time(Date.UTC(1949, 11, 31, 23, 59, 59))), [
      TAG.GENERALIZED_TIME,
      '19491231235959Z',
    ]);
  });

  it('writes the years 0000 and 9999 with four digits, and nothing outside them', () => {
    assert.deepEqual(shown(x509Time(EARLIEST_X509_TIME_MS)), [TAG.GENERALIZED_TIME, '00000101000000Z']);
    assert.deepEqual(shown(x509Time(LATEST_X509_TIME_MS)), [TAG.GENERALIZED_TIME, '99991231235959Z']);
    assert.throws(() => x509Time(EARLIEST_X509_TIME_MS - 1000), refusesEncoding);
    assert.throws(() => x509Time(LATEST_X509_TIME_MS + 1000), refusesEncoding);
  });

  it('refuses fractions of a second rather than rounding them silently', () => {
    assert.throws(() => x509Time(Date.UTC(2026, 0, 1) + 1), refusesEncoding);
    assert.throws(() => x509Time(Number.NaN), refusesEncoding);
  });

  it('refuses a UTCTime that would name the wrong century', () => {
    assert.throws(() => utcTime(Date.UTC(2050, 0, 1)), refusesEncoding);
    assert.throws(() => utcTime(Date.UTC(1949, 0, 1)), refusesEncoding);
    assert.deepEqual(shown(utcTime(Date.UTC(2026, 10, 22, 3, 4, 5))), [TAG.UTC_TIME, '261122030405Z']);
    assert.deepEqual(shown(generalizedTime(Date.UTC(2026, 10, 22, 3, 4, 5))), [
      TAG.GENERALIZED_TIME,
      '20261122030405Z',
    ]);
  });

  it('reads back every time it writes, on both sides of each boundary', () => {
    const instants = [
      Date.UTC(1949, 11, 31, 23, 59, 59),
      Date.UTC(1950, 0, 1),
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(2049, 11, 31, 23, 59, 59),
      Date.UTC(2050, 0, 1),
      LATEST_X509_TIME_MS,
    ];
    for (const ms of instants) {
      const node = readDer(x509Time(ms));
      assert.equal(
        readX509Time({ tag: node.tag, encoded: node.encoded, contents: node.contents }, 'time'),
        ms,
      );
    }
  });
});
