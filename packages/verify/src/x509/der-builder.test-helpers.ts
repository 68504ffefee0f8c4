import { sign, type KeyObject } from 'node:crypto';

/**
 * A small DER writer and certificate re-signer for tests: take a certificate that openssl made,
 * change one field of its TBSCertificate, and sign it again with the issuer's key, so each
 * test exercises exactly one check while everything else stays valid. Written independently
 * of the parser under test.
 */

export function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const length =
    body.length < 0x80
      ? [body.length]
      : body.length < 0x100
        ? [0x81, body.length]
        : [0x82, body.length >> 8, body.length & 0xff];
  return Uint8Array.from(Buffer.concat([Uint8Array.of(tag, ...length), body]));
}

export const seq = (...parts: readonly Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: readonly Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
export const octets = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
export const bool = (value: boolean): Uint8Array => tlv(0x01, Uint8Array.of(value ? 0xff : 0));
export const utf8 = (text: string): Uint8Array => tlv(0x0c, Buffer.from(text, 'utf8'));
export const hex = (text: string): Uint8Array =>
  Uint8Array.from(Buffer.from(text.replace(/[\s:]/g, ''), 'hex'));

/** OBJECT IDENTIFIER from dotted text, arcs of any size. */
export function oid(dotted: string): Uint8Array {
  const [root = 0n, second = 0n, ...rest] = dotted.split('.').map(BigInt);
  const body: number[] = [];
  for (const arc of [root * 40n + second, ...rest]) {
    const groups = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) groups.unshift(Number(value & 0x7fn) | 0x80);
    body.push(...groups);
  }
  return tlv(0x06, Uint8Array.from(body));
}

/** Extension ::= SEQUENCE { extnID, critical (only when TRUE), extnValue }. */
export function extension(id: string, value: Uint8Array, critical = false): Uint8Array {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

export function utcTime(text: string): Uint8Array {
  return tlv(0x17, Buffer.from(text, 'latin1'));
}

export function generalizedTime(text: string): Uint8Array {
  return tlv(0x18, Buffer.from(text, 'latin1'));
}

/** The top-level elements inside a constructed element's contents. Trusts its input. */
export function children(element: Uint8Array): Uint8Array[] {
  const header = (element[1] as number) < 0x80 ? 2 : 2 + ((element[1] as number) & 0x7f);
  const out: Uint8Array[] = [];
  for (let at = header; at < element.length;) {
    let length = element[at + 1] as number;
    let start = at + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let index = 0; index < count; index += 1)
        length = length * 256 + (element[start + index] as number);
      start += count;
    }
    out.push(element.subarray(at, start + length));
    at = start + length;
  }
  return out;
}

export interface TbsParts {
  readonly version: Uint8Array | null;
  readonly serial: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly validity: Uint8Array;
  readonly subject: Uint8Array;
  readonly spki: Uint8Array;
  /** Fields written between subjectPublicKeyInfo and extensions (unique IDs). */
  readonly extra: readonly Uint8Array[];
  /** Each a whole Extension SEQUENCE; null leaves out the [3] field. */
  readonly extensions: readonly Uint8Array[] | null;
}

export interface CertificateParts {
  readonly tbs: TbsParts;
  readonly algorithm: Uint8Array;
  readonly signatureValue: Uint8Array;
}

/** Splits an openssl-made v3 certificate into the parts of RFC 5280 4.1. */
export function splitCertificate(der: Uint8Array): CertificateParts {
  const [tbs, algorithm, signatureValue] = children(der) as [Uint8Array, Uint8Array, Uint8Array];
  const [version, serial, signature, issuer, validity, subject, spki, wrapper] = children(tbs);
  const list = wrapper === undefined ? null : children(children(wrapper)[0] as Uint8Array);
  return {
    tbs: {
      version: version as Uint8Array,
      serial: serial as Uint8Array,
      signature: signature as Uint8Array,
      issuer: issuer as Uint8Array,
      validity: validity as Uint8Array,
      subject: subject as Uint8Array,
      spki: spki as Uint8Array,
      extra: [],
      extensions: list,
    },
    algorithm,
    signatureValue,
  };
}

export function assembleTbs(parts: TbsParts): Uint8Array {
  return seq(
    ...(parts.version === null ? [] : [parts.version]),
    parts.serial,
    parts.signature,
    parts.issuer,
    parts.validity,
    parts.subject,
    parts.spki,
    ...parts.extra,
    ...(parts.extensions === null ? [] : [tlv(0xa3, seq(...parts.extensions))]),
  );
}

/** A certificate over `tbs`, signed ECDSA-SHA256 (DER) by `key`. */
export function signTbs(tbs: Uint8Array, key: KeyObject, algorithm = ECDSA_WITH_SHA256): Uint8Array {
  const signature = sign('sha256', tbs, key);
  return seq(tbs, algorithm, tlv(0x03, Uint8Array.of(0), signature));
}

export const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** The OID of an Extension SEQUENCE, dotted. */
export function extensionOid(extensionDer: Uint8Array): string {
  const id = children(extensionDer)[0] as Uint8Array;
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of id.subarray(2)) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  const first = arcs[0] as bigint;
  const root = first < 80n ? first / 40n : 2n;
  return [root, first - root * 40n, ...arcs.slice(1)].join('.');
}

/**
 * Re-signs `der` with `key` after `edit` changes its TBSCertificate. `extensions` in the edit
 * may be a function of the existing list, to add, drop or replace one.
 */
export function resign(
  der: Uint8Array,
  key: KeyObject,
  edit: Partial<Omit<TbsParts, 'extensions'>> & {
    readonly extensions?:
      readonly Uint8Array[] | null | ((list: readonly Uint8Array[]) => readonly Uint8Array[]);
  } = {},
): Uint8Array {
  const { tbs } = splitCertificate(der);
  const { extensions, ...rest } = edit;
  const list =
    typeof extensions === 'function'
      ? extensions(tbs.extensions ?? [])
      : extensions === undefined
        ? tbs.extensions
        : extensions;
  return signTbs(assembleTbs({ ...tbs, ...rest, extensions: list }), key);
}

/** Drops the extension with `id` and, unless `value` is null, appends `value` in its place. */
export function withExtension(id: string, value: Uint8Array | null) {
  return (list: readonly Uint8Array[]): readonly Uint8Array[] => {
    const others = list.filter((item) => extensionOid(item) !== id);
    return value === null ? others : [...others, value];
  };
}
