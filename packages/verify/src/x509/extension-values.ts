import { UUID_PATTERN } from '@orbis/protocol';
import {
  contextTag,
  decodeBitString,
  decodeBoolean,
  decodeIa5,
  decodeOid,
  decodeSmallUnsigned,
  decodeUtf8,
  malformed,
  readerOf,
  readWhole,
  TAG,
} from './der.ts';

/**
 * Decoders for the extnValue of each extension Orbis reads (RFC 5280 section 4.2). Each takes
 * the OCTET STRING's contents and returns the decoded value, throwing CERT_MALFORMED; the
 * caller re-codes that as CERT_EXTENSION_INVALID and names the extension.
 */

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength: number | undefined;
}

/** Longest pathLenConstraint read; any real one is a single digit. */
const MAX_PATH_LENGTH = 255;

/** 4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }. */
export function decodeBasicConstraints(value: Uint8Array): BasicConstraints {
  const reader = readerOf(readWhole(value, TAG.sequence, 'basicConstraints'), 'basicConstraints');
  const caElement = reader.optional(TAG.boolean, 'cA');
  // DER (X.690 11.5) omits a value equal to its DEFAULT, so an encoded cA is TRUE.
  if (caElement !== undefined && !decodeBoolean(caElement, 'cA')) throw malformed('cA FALSE is encoded');
  const lengthElement = reader.optional(TAG.integer, 'pathLenConstraint');
  reader.end();
  const ca = caElement !== undefined;
  if (lengthElement === undefined) return { ca, pathLength: undefined };
  if (!ca) throw malformed('pathLenConstraint without cA');
  return { ca, pathLength: decodeSmallUnsigned(lengthElement, MAX_PATH_LENGTH, 'pathLenConstraint') };
}

export const KEY_USAGES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/**
 * 4.2.1.3: a named BIT STRING. DER (X.690 11.2.2) drops trailing zero bits, so the last bit is
 * set, and RFC 5280 requires at least one; bits past decipherOnly are refused.
 */
export function decodeKeyUsage(value: Uint8Array): readonly KeyUsage[] {
  const { bytes, unusedBits } = decodeBitString(readWhole(value, TAG.bitString, 'keyUsage'), 'keyUsage');
  const bitCount = bytes.byteLength * 8 - unusedBits;
  if (bitCount === 0 || bitCount > KEY_USAGES.length) throw malformed('keyUsage has no bits or unknown bits');
  const isSet = (bit: number): boolean => ((bytes[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0;
  if (!isSet(bitCount - 1)) throw malformed('keyUsage has trailing zero bits');
  return KEY_USAGES.filter((_, bit) => bit < bitCount && isSet(bit));
}

/** A SEQUENCE SIZE (1..MAX) OF OBJECT IDENTIFIER, with no OID twice. */
function decodeOidList(value: Uint8Array, what: string): readonly string[] {
  const reader = readerOf(readWhole(value, TAG.sequence, what), what);
  const oids: string[] = [];
  while (!reader.done) oids.push(decodeOid(reader.expect(TAG.oid, what), what));
  if (oids.length === 0) throw malformed(`${what} is empty`);
  if (new Set(oids).size !== oids.length) throw malformed(`${what} lists an OID twice`);
  return oids;
}

/** 4.2.1.12: SEQUENCE SIZE (1..MAX) OF KeyPurposeId. */
export function decodeExtKeyUsage(value: Uint8Array): readonly string[] {
  return decodeOidList(value, 'extKeyUsage');
}

export interface SubjectAltName {
  /** uniformResourceIdentifier entries, in order. */
  readonly uris: readonly string[];
  /** How many entries of any other kind (DNS names, IP addresses, …) the extension holds. */
  readonly otherCount: number;
}

const URI_TAG = contextTag(6, false);
/** GeneralName's CHOICE tags (4.2.1.6): [0] to [8], primitive or constructed as X.509 defines. */
const GENERAL_NAME_TAGS = new Set([
  contextTag(0, true),
  contextTag(1, false),
  contextTag(2, false),
  contextTag(3, true),
  contextTag(4, true),
  contextTag(5, true),
  URI_TAG,
  contextTag(7, false),
  contextTag(8, false),
]);

/** 4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
export function decodeSubjectAltName(value: Uint8Array): SubjectAltName {
  const reader = readerOf(readWhole(value, TAG.sequence, 'subjectAltName'), 'subjectAltName');
  const uris: string[] = [];
  let otherCount = 0;
  while (!reader.done) {
    const name = reader.next('a general name');
    if (!GENERAL_NAME_TAGS.has(name.tag))
      throw malformed(`unknown general name tag 0x${name.tag.toString(16)}`);
    if (name.tag === URI_TAG) uris.push(decodeIa5(name.content, 'a URI'));
    else otherCount += 1;
  }
  if (uris.length + otherCount === 0) throw malformed('subjectAltName is empty');
  return { uris, otherCount };
}

/** 4.2.1.2: KeyIdentifier ::= OCTET STRING, never empty. */
export function decodeSubjectKeyIdentifier(value: Uint8Array): Uint8Array {
  const { content } = readWhole(value, TAG.octetString, 'subjectKeyIdentifier');
  if (content.byteLength === 0) throw malformed('an empty key identifier');
  return content;
}

/**
 * 4.2.1.1: SEQUENCE { [0] keyIdentifier OPTIONAL, [1] authorityCertIssuer OPTIONAL,
 * [2] authorityCertSerialNumber OPTIONAL }, the last two both present or both absent.
 * Returns the key identifier, the only field Orbis matches on.
 */
export function decodeAuthorityKeyIdentifier(value: Uint8Array): Uint8Array | undefined {
  const reader = readerOf(readWhole(value, TAG.sequence, 'authorityKeyIdentifier'), 'authorityKeyIdentifier');
  const keyIdentifier = reader.optional(contextTag(0, false), 'keyIdentifier');
  const issuer = reader.optional(contextTag(1, true), 'authorityCertIssuer');
  const serial = reader.optional(contextTag(2, false), 'authorityCertSerialNumber');
  reader.end();
  if ((issuer === undefined) !== (serial === undefined)) {
    throw malformed('authorityCertIssuer and authorityCertSerialNumber must come together');
  }
  if (keyIdentifier?.content.byteLength === 0) throw malformed('an empty key identifier');
  return keyIdentifier?.content;
}

/**
 * 4.2.1.4: SEQUENCE SIZE (1..MAX) OF SEQUENCE { policyIdentifier, policyQualifiers SEQUENCE
 * OPTIONAL }. Returns the policy OIDs; qualifiers are checked to be a SEQUENCE and otherwise
 * ignored. A policy OID may not appear twice.
 */
export function decodeCertificatePolicies(value: Uint8Array): readonly string[] {
  const reader = readerOf(readWhole(value, TAG.sequence, 'certificatePolicies'), 'certificatePolicies');
  const policies: string[] = [];
  while (!reader.done) {
    const information = readerOf(reader.expect(TAG.sequence, 'a policy'), 'a policy');
    policies.push(decodeOid(information.expect(TAG.oid, 'a policy identifier'), 'a policy identifier'));
    information.optional(TAG.sequence, 'policy qualifiers');
    information.end();
  }
  if (policies.length === 0) throw malformed('certificatePolicies is empty');
  if (new Set(policies).size !== policies.length) throw malformed('a policy OID appears twice');
  return policies;
}

/** RFC 9608: noRevAvail's extnValue is the DER of NULL. */
export function decodeNoRevAvail(value: Uint8Array): true {
  if (readWhole(value, TAG.null, 'noRevAvail').content.byteLength !== 0)
    throw malformed('NULL with contents');
  return true;
}

export interface GroupAssignment {
  readonly tenantId: string;
  readonly productId: string;
  readonly groupId: string;
}

const UUID = new RegExp(UUID_PATTERN);

/**
 * The Orbis group-assignment extension: SEQUENCE { tenantId, productId, groupId }, each a
 * UTF8String holding a lowercase UUID.
 */
export function decodeGroupAssignment(value: Uint8Array): GroupAssignment {
  const reader = readerOf(readWhole(value, TAG.sequence, 'groupAssignment'), 'groupAssignment');
  const [tenantId, productId, groupId] = ['tenantId', 'productId', 'groupId'].map((field) => {
    const text = decodeUtf8(reader.expect(TAG.utf8String, field).content, field);
    if (!UUID.test(text)) throw malformed(`${field} is not a lowercase UUID`);
    return text;
  }) as [string, string, string];
  reader.end();
  return { tenantId, productId, groupId };
}
