import { allocateElement, encodingError, TAG } from './tlv.ts';

/**
 * X.509 times (RFC 5280 4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for years 1950 through 2049,
 * GeneralizedTime `YYYYMMDDHHMMSSZ` for every other year, always UTC with seconds and never
 * fractions. Inputs are milliseconds since the Unix epoch and must be whole seconds: rounding
 * is the caller's decision (the issuers floor, and return the times they wrote).
 */

const MS_PER_SECOND = 1000;
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four year digits hold. */
export const EARLIEST_X509_TIME_MS = -62_167_219_200_000;
export const LATEST_X509_TIME_MS = 253_402_300_799_000;
const UTC_TIME_FIRST_YEAR = 1950;
const UTC_TIME_LAST_YEAR = 2049;

function writeDigits(out: Uint8Array, offset: number, value: number, width: number): number {
  let rest = value;
  for (let index = width - 1; index >= 0; index -= 1) {
    out[offset + index] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return offset + width;
}

function fields(ms: number): Date {
  if (!Number.isSafeInteger(ms) || ms % MS_PER_SECOND !== 0) {
    throw encodingError(`${ms} is not a whole-second timestamp`);
  }
  if (ms < EARLIEST_X509_TIME_MS || ms > LATEST_X509_TIME_MS) {
    throw encodingError(`${ms} is outside years 0000 to 9999`);
  }
  return new Date(ms);
}

function writeTime(tag: number, date: Date, yearDigits: 2 | 4): Uint8Array {
  const { out, start } = allocateElement(tag, yearDigits + 11);
  let offset = writeDigits(out, start, date.getUTCFullYear() % 10 ** yearDigits, yearDigits);
  offset = writeDigits(out, offset, date.getUTCMonth() + 1, 2);
  offset = writeDigits(out, offset, date.getUTCDate(), 2);
  offset = writeDigits(out, offset, date.getUTCHours(), 2);
  offset = writeDigits(out, offset, date.getUTCMinutes(), 2);
  offset = writeDigits(out, offset, date.getUTCSeconds(), 2);
  out[offset] = 0x5a; // 'Z'
  return out;
}

/** UTCTime; refuses years a two-digit year cannot name under RFC 5280 (before 1950, after 2049). */
export function utcTime(ms: number): Uint8Array {
  const date = fields(ms);
  const year = date.getUTCFullYear();
  if (year < UTC_TIME_FIRST_YEAR || year > UTC_TIME_LAST_YEAR) {
    throw encodingError(`UTCTime cannot hold the year ${year}`);
  }
  return writeTime(TAG.UTC_TIME, date, 2);
}

export function generalizedTime(ms: number): Uint8Array {
  return writeTime(TAG.GENERALIZED_TIME, fields(ms), 4);
}

/** RFC 5280 4.1.2.5: the Time choice a conforming CA must make for this instant. */
export function x509Time(ms: number): Uint8Array {
  const date = fields(ms);
  const year = date.getUTCFullYear();
  return year >= UTC_TIME_FIRST_YEAR && year <= UTC_TIME_LAST_YEAR
    ? writeTime(TAG.UTC_TIME, date, 2)
    : writeTime(TAG.GENERALIZED_TIME, date, 4);
}
