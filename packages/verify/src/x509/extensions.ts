import { CertificateError } from '../errors.ts';
import { decodeBoolean, decodeOid, readerOf, TAG, type DerElement } from './der.ts';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeCertificatePolicies,
  decodeExtKeyUsage,
  decodeGroupAssignment,
  decodeKeyUsage,
  decodeNoRevAvail,
  decodeSubjectAltName,
  decodeSubjectKeyIdentifier,
  type BasicConstraints,
  type GroupAssignment,
  type KeyUsage,
  type SubjectAltName,
} from './extension-values.ts';
import { OID } from './oids.ts';

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The contents of extnValue: the DER of the extension's own value. */
  readonly value: Uint8Array;
}

/** The extensions Orbis reads, decoded. An absent extension is undefined (noRevAvail: false). */
export interface DecodedExtensions {
  readonly basicConstraints: BasicConstraints | undefined;
  readonly keyUsage: readonly KeyUsage[] | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltName: SubjectAltName | undefined;
  readonly subjectKeyIdentifier: Uint8Array | undefined;
  readonly authorityKeyIdentifier: Uint8Array | undefined;
  readonly certificatePolicies: readonly string[] | undefined;
  readonly noRevAvail: boolean;
  readonly groupAssignment: GroupAssignment | undefined;
}

/**
 * What Orbis recognises, and whether RFC 5280 lets it be critical: SKI and AKI "MUST" be
 * non-critical (4.2.1.1, 4.2.1.2), and so must noRevAvail (RFC 9608 section 2). Any other
 * extension is unrecognised: ignored when non-critical, and the certificate refused when
 * critical (4.2: "A certificate-using system MUST reject the certificate if it encounters a
 * critical extension it does not recognize").
 */
const RECOGNISED: ReadonlyMap<string, { readonly mayBeCritical: boolean }> = new Map([
  [OID.basicConstraints, { mayBeCritical: true }],
  [OID.keyUsage, { mayBeCritical: true }],
  [OID.extKeyUsage, { mayBeCritical: true }],
  [OID.subjectAltName, { mayBeCritical: true }],
  [OID.certificatePolicies, { mayBeCritical: true }],
  [OID.groupAssignment, { mayBeCritical: true }],
  [OID.subjectKeyIdentifier, { mayBeCritical: false }],
  [OID.authorityKeyIdentifier, { mayBeCritical: false }],
  [OID.noRevAvail, { mayBeCritical: false }],
]);

function invalid(reason: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_EXTENSION_INVALID', `certificate extension: ${reason}`, { cause });
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function readExtension(element: DerElement): CertificateExtension {
  const reader = readerOf(element, 'an extension');
  const oid = decodeOid(reader.expect(TAG.oid, 'extnID'), 'extnID');
  const criticalElement = reader.optional(TAG.boolean, 'critical');
  const critical = criticalElement !== undefined && decodeBoolean(criticalElement, 'critical');
  if (criticalElement !== undefined && !critical)
    throw invalid(`${oid} encodes critical FALSE, which DER omits`);
  const value = reader.expect(TAG.octetString, 'extnValue').content;
  reader.end();
  return { oid, critical, value };
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, each OID at most once (4.2). */
export function readExtensions(element: DerElement): ReadonlyMap<string, CertificateExtension> {
  const reader = readerOf(element, 'extensions');
  const extensions = new Map<string, CertificateExtension>();
  while (!reader.done) {
    const extension = readExtension(reader.expect(TAG.sequence, 'an extension'));
    if (extensions.has(extension.oid)) throw invalid(`${extension.oid} appears twice`);
    const rule = RECOGNISED.get(extension.oid);
    if (rule === undefined && extension.critical) {
      throw new CertificateError(
        'CERT_EXTENSION_UNKNOWN_CRITICAL',
        `critical extension ${extension.oid} is not one Orbis processes`,
      );
    }
    if (rule?.mayBeCritical === false && extension.critical) {
      throw invalid(`${extension.oid} must not be critical`);
    }
    extensions.set(extension.oid, extension);
  }
  if (extensions.size === 0) throw invalid('an empty extensions list');
  return extensions;
}

function decode<T>(
  extensions: ReadonlyMap<string, CertificateExtension>,
  oid: string,
  decoder: (value: Uint8Array) => T,
): T | undefined {
  const extension = extensions.get(oid);
  if (extension === undefined) return undefined;
  try {
    return decoder(extension.value);
  } catch (cause) {
    throw invalid(`${oid} cannot be decoded`, cause);
  }
}

export function decodeExtensions(extensions: ReadonlyMap<string, CertificateExtension>): DecodedExtensions {
  return {
    basicConstraints: decode(extensions, OID.basicConstraints, decodeBasicConstraints),
    keyUsage: decode(extensions, OID.keyUsage, decodeKeyUsage),
    extKeyUsage: decode(extensions, OID.extKeyUsage, decodeExtKeyUsage),
    subjectAltName: decode(extensions, OID.subjectAltName, decodeSubjectAltName),
    subjectKeyIdentifier: decode(extensions, OID.subjectKeyIdentifier, decodeSubjectKeyIdentifier),
    authorityKeyIdentifier: decode(extensions, OID.authorityKeyIdentifier, decodeAuthorityKeyIdentifier),
    certificatePolicies: decode(extensions, OID.certificatePolicies, decodeCertificatePolicies),
    noRevAvail: decode(extensions, OID.noRevAvail, decodeNoRevAvail) ?? false,
    groupAssignment: decode(extensions, OID.groupAssignment, decodeGroupAssignment),
  };
}
