import { CertificateError } from '../errors.ts';

/**
 * A strict DER reader (ITU-T X.690 section 10) for the subset X.509 uses: single-byte tags,
 * definite minimal lengths, and nothing past the end of its parent. Every violation is
 * CERT_MALFORMED; callers that decode extension values re-code it.
 */

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Context-specific tags: [n] for a primitive, [n] constructed for an explicit or structured field. */
export const contextTag = (n: number, constructed: boolean): number => (constructed ? 0xa0 : 0x80) | n;

export interface DerElement {
  readonly tag: number;
  /** The whole encoding: tag, length and contents. */
  readonly der: Uint8Array;
  readonly content: Uint8Array;
}

export function malformed(reason: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_MALFORMED', `certificate: ${reason}`, { cause });
}

/** A cursor over the contents of one constructed element (or a whole buffer). */
export class DerReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  get done(): boolean {
    return this.#offset === this.#bytes.byteLength;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.#bytes[this.#offset];
  }

  #byte(at: number, what: string): number {
    const value = this.#bytes[at];
    if (value === undefined) throw malformed(`${this.#what} ends inside ${what}`);
    return value;
  }

  /** X.690 8.1.3 with the DER rules of 10.1: definite form, fewest length octets. */
  #length(at: number, what: string): { length: number; next: number } {
    const first = this.#byte(at, `the length of ${what}`);
    if (first < 0x80) return { length: first, next: at + 1 };
    if (first === 0x81) {
      const length = this.#byte(at + 1, `the length of ${what}`);
      if (length < 0x80) throw malformed(`${what} has a non-minimal length`);
      return { length, next: at + 2 };
    }
    if (first === 0x82) {
      const high = this.#byte(at + 1, `the length of ${what}`);
      if (high === 0) throw malformed(`${what} has a non-minimal length`);
      return { length: (high << 8) | this.#byte(at + 2, `the length of ${what}`), next: at + 3 };
    }
    // 0x80 is the indefinite form (BER only); longer forms cannot fit a bounded certificate.
    throw malformed(`${what} has an unsupported length form`);
  }

  next(what: string): DerElement {
    const start = this.#offset;
    const tag = this.#byte(start, what);
    if ((tag & 0x1f) === 0x1f) throw malformed(`${what} uses a multi-byte tag`);
    const { length, next } = this.#length(start + 1, what);
    const end = next + length;
    if (end > this.#bytes.byteLength) throw malformed(`${what} runs past the end of ${this.#what}`);
    this.#offset = end;
    return { tag, der: this.#bytes.subarray(start, end), content: this.#bytes.subarray(next, end) };
  }

  expect(tag: number, what: string): DerElement {
    const element = this.next(what);
    if (element.tag !== tag) {
      throw malformed(
        `expected ${what} (tag 0x${tag.toString(16)}), found tag 0x${element.tag.toString(16)}`,
      );
    }
    return element;
  }

  /** The next element if it has `tag`; otherwise nothing is consumed. */
  optional(tag: number, what: string): DerElement | undefined {
    return this.peekTag() === tag ? this.next(what) : undefined;
  }

  end(): void {
    if (!this.done) throw malformed(`unexpected bytes at the end of ${this.#what}`);
  }
}

/** `bytes` must be exactly one element with `tag`. */
export function readWhole(bytes: Uint8Array, tag: number, what: string): DerElement {
  const reader = new DerReader(bytes, what);
  const element = reader.expect(tag, what);
  reader.end();
  return element;
}

export function readerOf(element: DerElement, what: string): DerReader {
  return new DerReader(element.content, what);
}

/** X.690 8.2 and 11.1: one content octet, FALSE 0x00 or TRUE 0xFF. */
export function decodeBoolean(element: DerElement, what: string): boolean {
  const [value] = element.content;
  if (element.content.byteLength !== 1 || (value !== 0x00 && value !== 0xff)) {
    throw malformed(`${what} is not a DER BOOLEAN`);
  }
  return value === 0xff;
}

/**
 * X.690 8.3: a minimal, non-negative INTEGER. Returns its magnitude without the sign octet.
 * Every INTEGER in the parts of X.509 Orbis reads is non-negative.
 */
export function decodeUnsigned(element: DerElement, what: string): Uint8Array {
  const [first, second] = element.content;
  if (first === undefined) throw malformed(`${what} is an empty INTEGER`);
  if (first & 0x80) throw malformed(`${what} is negative`);
  if (first === 0 && second !== undefined) {
    if (!(second & 0x80)) throw malformed(`${what} is not minimally encoded`);
    return element.content.subarray(1);
  }
  return element.content;
}

/** A non-negative INTEGER no larger than `max`. */
export function decodeSmallUnsigned(element: DerElement, max: number, what: string): number {
  const magnitude = decodeUnsigned(element, what);
  let value = 0;
  for (const byte of magnitude) {
    value = value * 256 + byte;
    if (value > max) throw malformed(`${what} is larger than ${max}`);
  }
  return value;
}

/**
 * X.690 8.19: dotted-decimal text of an OBJECT IDENTIFIER. Arcs are arbitrarily large (Orbis's
 * own sit under 2.25.<a 128-bit UUID>), so they are read as BigInt; every subidentifier must be
 * minimal (no leading 0x80 octet) and the last must end.
 */
export function decodeOid(element: DerElement, what: string): string {
  const { content } = element;
  if (content.byteLength === 0) throw malformed(`${what} is an empty OBJECT IDENTIFIER`);
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of content) {
    if (fresh && byte === 0x80) throw malformed(`${what} has a non-minimal subidentifier`);
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (!fresh) throw malformed(`${what} ends inside a subidentifier`);
  // The first subidentifier packs the first two arcs as 40 × root + second (X.690 8.19.4).
  const first = arcs[0] as bigint;
  const root = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [root, first - 40n * root, ...arcs.slice(1)].join('.');
}

/** X.690 8.6 and 11.2: a BIT STRING's bytes; DER requires the unused trailing bits to be zero. */
export function decodeBitString(
  element: DerElement,
  what: string,
): { bytes: Uint8Array; unusedBits: number } {
  const [unusedBits] = element.content;
  const bytes = element.content.subarray(1);
  if (unusedBits === undefined || unusedBits > 7 || (bytes.byteLength === 0 && unusedBits !== 0)) {
    throw malformed(`${what} is not a DER BIT STRING`);
  }
  const last = bytes[bytes.byteLength - 1] ?? 0;
  if ((last & ((1 << unusedBits) - 1)) !== 0) throw malformed(`${what} has non-zero unused bits`);
  return { bytes, unusedBits };
}

/** IA5String (ASCII) content, as used by URIs and DNS names. */
export function decodeIa5(content: Uint8Array, what: string): string {
  if (content.some((byte) => byte > 0x7f)) throw malformed(`${what} is not IA5 (ASCII) text`);
  return Buffer.from(content).toString('latin1');
}

/** UTF8String content; invalid UTF-8 is refused, not replaced. */
export function decodeUtf8(content: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content);
  } catch (cause) {
    throw malformed(`${what} is not UTF-8`, cause);
  }
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString content (X.680 41.4): a restricted ASCII alphabet. */
export function decodePrintable(content: Uint8Array, what: string): string {
  const text = decodeIa5(content, what);
  if (!PRINTABLE.test(text)) throw malformed(`${what} has characters outside PrintableString`);
  return text;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
