import { CaError } from '../errors.ts';

/**
 * The shape of every DER element: identifier octet, length octets, contents (X.690 section 8.1).
 *
 * Elements are not copied together level by level: `sequence()` and friends return a `DerNode`
 * that only records its children and its length, and `encodeDer` writes the whole tree into
 * one Uint8Array allocated at its final size. Small primitives (integers, OIDs, times) are
 * Uint8Arrays, which V8 keeps on its heap; ASCII strings stay strings until written. A
 * certificate thus costs one large allocation and no per-byte objects.
 */

/** An element ready to be written: encoded bytes, or a node over such elements. */
export type Der = Uint8Array | DerNode;

/**
 * What a node's contents are made of: elements, raw contents octets, or text whose characters
 * are all below 0x80 (checked by the string encoders), written one octet per character when the
 * tree is encoded, so a 125-character URI costs no buffer of its own.
 */
export type DerPart = Der | string;

export interface DerNode {
  readonly tag: number;
  readonly children: readonly DerPart[];
  readonly contentsLength: number;
  /** Identifier, length and contents octets: what the node occupies when written. */
  readonly byteLength: number;
}

export const TAG = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
});

const CONSTRUCTED = 0x20;
const CONTEXT_SPECIFIC = 0x80;
/** Tag numbers from 31 up need the high-tag-number form (X.690 8.1.2.4); nothing Orbis writes does. */
const MAX_LOW_TAG_NUMBER = 30;
/** Four length octets: contents up to 4 GiB, far beyond anything a certificate holds. */
const MAX_CONTENTS_BYTES = 0xffff_ffff;

export function encodingError(reason: string): CaError {
  return new CaError('CA_ENCODING_INVALID', `DER: ${reason}`);
}

/** How many octets the length of `contentsLength` takes (X.690 8.1.3: short form below 128). */
export function lengthOctets(contentsLength: number): number {
  if (!Number.isSafeInteger(contentsLength) || contentsLength < 0 || contentsLength > MAX_CONTENTS_BYTES) {
    throw encodingError(`cannot encode a length of ${contentsLength}`);
  }
  if (contentsLength < 0x80) return 1;
  let octets = 1;
  for (let rest = contentsLength; rest > 0; rest = Math.floor(rest / 256)) octets += 1;
  return octets;
}

/**
 * Writes identifier and length octets at `offset` and returns where the contents start. The
 * long form uses the fewest octets (X.690 10.1, DER), so 128 is `81 80` and 256 is `82 01 00`.
 */
export function writeHeader(out: Uint8Array, offset: number, tag: number, contentsLength: number): number {
  out[offset] = tag;
  const octets = lengthOctets(contentsLength);
  if (octets === 1) {
    out[offset + 1] = contentsLength;
    return offset + 2;
  }
  out[offset + 1] = 0x80 | (octets - 1);
  let rest = contentsLength;
  for (let index = octets; index > 1; index -= 1) {
    out[offset + index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return offset + 1 + octets;
}

/** Allocates a primitive element of `contentsLength` and writes its header; the caller fills the rest. */
export function allocateElement(tag: number, contentsLength: number): { out: Uint8Array; start: number } {
  const out = new Uint8Array(1 + lengthOctets(contentsLength) + contentsLength);
  return { out, start: writeHeader(out, 0, tag, contentsLength) };
}

/** One primitive element whose contents are `contents`, copied. */
export function tlv(tag: number, contents: Uint8Array): Uint8Array {
  const { out, start } = allocateElement(tag, contents.byteLength);
  out.set(contents, start);
  return out;
}

/**
 * An element whose contents are `children`, written in order: every constructed type, and the
 * primitive OCTET STRINGs whose contents are themselves DER (an extension's extnValue).
 */
export function container(tag: number, children: readonly DerPart[]): DerNode {
  let contentsLength = 0;
  for (const child of children) contentsLength += typeof child === 'string' ? child.length : child.byteLength;
  return { tag, children, contentsLength, byteLength: 1 + lengthOctets(contentsLength) + contentsLength };
}

function write(out: Uint8Array, offset: number, element: DerPart): number {
  if (typeof element === 'string') {
    for (let index = 0; index < element.length; index += 1) out[offset + index] = element.charCodeAt(index);
    return offset + element.length;
  }
  if (element instanceof Uint8Array) {
    out.set(element, offset);
    return offset + element.byteLength;
  }
  let next = writeHeader(out, offset, element.tag, element.contentsLength);
  for (const child of element.children) next = write(out, next, child);
  return next;
}

/** The DER octets of `element`, in one allocation. */
export function encodeDer(element: Der): Uint8Array {
  if (element instanceof Uint8Array) return element;
  const out = new Uint8Array(element.byteLength);
  write(out, 0, element);
  return out;
}

export function sequence(...children: readonly Der[]): DerNode {
  return container(TAG.SEQUENCE, children);
}

/**
 * X.690 11.6 order. One DER element is never a proper prefix of another (its header fixes its
 * length), so the first differing octet decides and 11.6's zero padding never comes into play;
 * equal encodings compare equal.
 */
function compareEncodings(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.byteLength, b.byteLength);
  for (let index = 0; index < length; index += 1) {
    const difference = (a[index] as number) - (b[index] as number);
    if (difference !== 0) return difference;
  }
  return a.byteLength - b.byteLength;
}

/**
 * SET OF: DER orders the elements by their encodings, ascending (X.690 11.6), whatever order
 * they are given in. A Name's RelativeDistinguishedName is a SET OF AttributeTypeAndValue.
 */
export function setOf(...children: readonly Der[]): DerNode {
  if (children.length < 2) return container(TAG.SET, children);
  return container(TAG.SET, children.map(encodeDer).sort(compareEncodings));
}

function checkTagNumber(tagNumber: number): void {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > MAX_LOW_TAG_NUMBER) {
    throw encodingError(`context tag [${tagNumber}] is not in 0..${MAX_LOW_TAG_NUMBER}`);
  }
}

/** `[tagNumber] EXPLICIT`: a constructed context-specific element wrapping `children`. */
export function explicit(tagNumber: number, ...children: readonly Der[]): DerNode {
  checkTagNumber(tagNumber);
  return container(CONTEXT_SPECIFIC | CONSTRUCTED | tagNumber, children);
}

/**
 * `[tagNumber] IMPLICIT`: `element` with its identifier octet replaced by the context-specific
 * tag, keeping its primitive or constructed form (X.690 8.14.3). A GeneralName's
 * uniformResourceIdentifier is `implicit(6, ia5String(uri))`.
 */
export function implicit(tagNumber: number, element: Der): Der {
  checkTagNumber(tagNumber);
  if (!(element instanceof Uint8Array)) {
    return container(CONTEXT_SPECIFIC | (element.tag & CONSTRUCTED) | tagNumber, element.children);
  }
  const identifier = element[0];
  if (identifier === undefined || (identifier & 0x1f) === 0x1f) {
    throw encodingError('IMPLICIT needs an encoded element with a low tag number');
  }
  const out = Uint8Array.from(element);
  out[0] = CONTEXT_SPECIFIC | (identifier & CONSTRUCTED) | tagNumber;
  return out;
}
