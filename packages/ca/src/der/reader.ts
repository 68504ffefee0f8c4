import { CaError } from '../errors.ts';
import { TAG } from './tlv.ts';

/**
 * A strict DER reader, just large enough to take a stored CA certificate back
 * (parseCaCertificate). It accepts exactly one encoding of each value: definite, minimal
 * lengths (X.690 10.1), low tag numbers, DER booleans, minimal integers and RFC 5280 times.
 * Everything it refuses is CA_CERTIFICATE_INVALID.
 */

export interface DerElement {
  readonly tag: number;
  /** The whole element, identifier and length octets included. */
  readonly encoded: Uint8Array;
  readonly contents: Uint8Array;
}

export function malformed(reason: string, cause?: unknown): CaError {
  return new CaError('CA_CERTIFICATE_INVALID', `CA certificate: ${reason}`, { cause });
}

/** Reads the element that starts at `offset`; it must end within `input`. */
export function readElement(input: Uint8Array, offset: number): DerElement {
  const tag = input[offset];
  const first = input[offset + 1];
  if (tag === undefined || first === undefined) throw malformed('truncated element header');
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not used');
  let length = first;
  let contentsStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    // 0x80 alone is BER's indefinite form; more than 4 octets is more than any input here.
    if (octets === 0 || octets > 4) throw malformed('indefinite or oversized length');
    if (input[contentsStart] === 0) throw malformed('length with a leading zero octet');
    length = 0;
    for (let index = 0; index < octets; index += 1) {
      const octet = input[contentsStart + index];
      if (octet === undefined) throw malformed('truncated length');
      length = length * 256 + octet;
    }
    if (length < 0x80) throw malformed('long-form length for a short length');
    contentsStart += octets;
  }
  const end = contentsStart + length;
  if (end > input.byteLength) throw malformed('element runs past its container');
  return { tag, encoded: input.subarray(offset, end), contents: input.subarray(contentsStart, end) };
}

/** `input` must be exactly one element with tag `tag`. */
export function readWhole(input: Uint8Array, tag: number, what: string): DerElement {
  const element = readElement(input, 0);
  if (element.tag !== tag) throw malformed(`${what} has the wrong tag`);
  if (element.encoded.byteLength !== input.byteLength) throw malformed(`bytes after the ${what}`);
  return element;
}

/** The elements inside a constructed element, which must fill it exactly. */
export function readChildren(parent: DerElement, what: string): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw malformed(`${what} is not constructed`);
  const children: DerElement[] = [];
  for (let offset = 0; offset < parent.contents.byteLength;) {
    const child = readElement(parent.contents, offset);
    children.push(child);
    offset += child.encoded.byteLength;
  }
  return children;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

/**
 * A non-negative, minimally encoded INTEGER (X.690 8.3.2): no negative values, no leading
 * zero octet unless the next octet's high bit is set. Returns the contents octets.
 */
export function readUnsignedInteger(element: DerElement | undefined, what: string): Uint8Array {
  const { contents } = expectTag(element, TAG.INTEGER, what);
  const [first, second] = contents;
  if (first === undefined) throw malformed(`${what} is empty`);
  if (first & 0x80) throw malformed(`${what} is negative`);
  if (first === 0 && second !== undefined && (second & 0x80) === 0) throw malformed(`${what} is not minimal`);
  return contents;
}

/** DER BOOLEAN: one octet, 0x00 or 0xff (X.690 11.1). */
export function readBoolean(element: DerElement | undefined, what: string): boolean {
  const { contents } = expectTag(element, TAG.BOOLEAN, what);
  if (contents.byteLength !== 1 || (contents[0] !== 0 && contents[0] !== 0xff)) {
    throw malformed(`${what} is not a DER BOOLEAN`);
  }
  return contents[0] === 0xff;
}

/** A BIT STRING's bytes with its unused-bit count, the padding bits zero (X.690 11.2.1). */
export function readBitString(
  element: DerElement | undefined,
  what: string,
): { bytes: Uint8Array; unusedBits: number } {
  const { contents } = expectTag(element, TAG.BIT_STRING, what);
  const unusedBits = contents[0];
  const bytes = contents.subarray(1);
  const last = bytes[bytes.byteLength - 1];
  if (unusedBits === undefined || unusedBits > 7) throw malformed(`${what} has a bad unused-bit count`);
  if (last === undefined ? unusedBits !== 0 : (last & ((1 << unusedBits) - 1)) !== 0) {
    throw malformed(`${what} has non-zero padding bits`);
  }
  return { bytes, unusedBits };
}

type SixNumbers = [number, number, number, number, number, number];
const UTC_TIME = /^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})Z$/;
const GENERALIZED_TIME = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})Z$/;

/**
 * RFC 5280 4.1.2.5: UTCTime for 1950-2049 (YY below 50 is 20YY), GeneralizedTime for every
 * other year, seconds present, Z, no fractions. Returns milliseconds since the Unix epoch.
 */
export function readX509Time(element: DerElement | undefined, what: string): number {
  const isUtc = element?.tag === TAG.UTC_TIME;
  if (!isUtc && element?.tag !== TAG.GENERALIZED_TIME) throw malformed(`${what} is not a time`);
  const match = (isUtc ? UTC_TIME : GENERALIZED_TIME).exec(String.fromCharCode(...element.contents));
  if (match === null) throw malformed(`${what} is not in the RFC 5280 form`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as SixNumbers;
  const fullYear = isUtc ? (year < 50 ? 2000 + year : 1900 + year) : year;
  if (!isUtc && fullYear >= 1950 && fullYear <= 2049) throw malformed(`${what} must be a UTCTime`);
  const date = new Date(0);
  date.setUTCFullYear(fullYear, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const roundTrips =
    date.getUTCFullYear() === fullYear &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!roundTrips) throw malformed(`${what} names no real instant`);
  return date.getTime();
}
