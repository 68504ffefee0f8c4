import { encodeHex } from '@orbis/crypto';
import {
  boolean,
  namedBitString,
  octetString,
  sequence,
  smallInteger,
  TAG,
  type Der,
  type DerNode,
} from '../der/index.ts';
import { authorityKeyIdentifierExtension } from '../device-certificate/profile.ts';
import {
  expectTag,
  malformed,
  readBitString,
  readBoolean,
  readChildren,
  readUnsignedInteger,
  readWhole,
  type DerElement,
} from '../der/reader.ts';
import { extension } from '../x509/extension.ts';
import { KEY_USAGE_BIT, OID } from '../x509/oids.ts';

/**
 * The three extensions of an Orbis CA certificate (ARCHITECTURE.md, "Tenant CA"), written by
 * createCaCertificate and required by parseCaCertificate.
 */

/** Largest subjectKeyIdentifier accepted back; Orbis writes 20 bytes. */
const MAX_KEY_IDENTIFIER_BYTES = 64;
/** Largest pathLenConstraint read back: more than any chain Orbis builds. */
const MAX_PATH_LENGTH = 255;

/**
 * basicConstraints critical, cA TRUE, pathLen; keyUsage critical keyCertSign;
 * subjectKeyIdentifier; and, for an intermediate (a CA certified by another CA), an
 * authorityKeyIdentifier naming the issuer's key. Self-signed CAs leave it out.
 */
export function encodeCaExtensions(
  pathLength: number,
  subjectKeyIdentifier: Uint8Array,
  issuerKeyIdentifier?: Uint8Array,
): DerNode {
  const extensions: Der[] = [
    // RFC 5280 4.2.1.9: MUST be critical in CA certificates that sign certificates.
    extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(pathLength))),
    // RFC 5280 4.2.1.3: SHOULD be critical; keyCertSign and nothing else, as no CRLs exist.
    extension(OID.keyUsage, true, namedBitString([KEY_USAGE_BIT.keyCertSign])),
    // RFC 5280 4.2.1.2: MUST appear in CA certificates, MUST NOT be critical.
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyIdentifier)),
  ];
  // RFC 5280 4.2.1.1: MUST appear in every certificate but a self-signed one, non-critical.
  if (issuerKeyIdentifier !== undefined)
    extensions.push(authorityKeyIdentifierExtension(issuerKeyIdentifier));
  return sequence(...extensions);
}

export interface CaExtensions {
  readonly pathLength: number | null;
  readonly subjectKeyIdentifier: Uint8Array;
}

interface RawExtension {
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Each Extension once; `critical` written only when TRUE (X.690 11.5 for DEFAULT FALSE). */
function readExtensionList(extensions: DerElement): Map<string, RawExtension> {
  const list = readChildren(readWhole(extensions.contents, TAG.SEQUENCE, 'Extensions'), 'Extensions');
  if (list.length === 0) throw malformed('an empty Extensions list'); // RFC 5280 4.1.2.9
  const byOid = new Map<string, RawExtension>();
  for (const element of list) {
    const fields = readChildren(expectTag(element, TAG.SEQUENCE, 'an Extension'), 'Extension');
    const oid = expectTag(fields[0], TAG.OBJECT_IDENTIFIER, 'an extension OID');
    const hasCritical = fields.length === 3;
    if (hasCritical && !readBoolean(fields[1], 'critical')) throw malformed('critical FALSE written out');
    if (fields.length !== (hasCritical ? 3 : 2)) throw malformed('an Extension with extra fields');
    const value = expectTag(fields[hasCritical ? 2 : 1], TAG.OCTET_STRING, 'extnValue').contents;
    const key = encodeHex(oid.encoded);
    if (byOid.has(key)) throw malformed('an extension appears twice'); // RFC 5280 4.2
    byOid.set(key, { critical: hasCritical, value });
  }
  return byOid;
}

function take(byOid: Map<string, RawExtension>, oid: Uint8Array, what: string): RawExtension {
  const key = encodeHex(oid);
  const found = byOid.get(key);
  if (found === undefined) throw malformed(`no ${what} extension`);
  byOid.delete(key);
  return found;
}

function readPathLength(basicConstraints: RawExtension): number | null {
  if (!basicConstraints.critical) throw malformed('basicConstraints is not critical');
  const fields = readChildren(
    readWhole(basicConstraints.value, TAG.SEQUENCE, 'BasicConstraints'),
    'BasicConstraints',
  );
  if (!readBoolean(fields[0], 'cA')) throw malformed('basicConstraints does not say cA');
  if (fields.length > 2) throw malformed('BasicConstraints with extra fields');
  if (fields[1] === undefined) return null;
  const digits = readUnsignedInteger(fields[1], 'pathLenConstraint');
  if (digits.byteLength > 1 || (digits[0] as number) > MAX_PATH_LENGTH) throw malformed('pathLen too large');
  return digits[0] as number;
}

/** Reads `[3] EXPLICIT Extensions` of a CA certificate: the three above, no unknown critical one. */
export function readCaExtensions(extensions: DerElement): CaExtensions {
  const byOid = readExtensionList(extensions);
  const pathLength = readPathLength(take(byOid, OID.basicConstraints, 'basicConstraints'));

  const keyUsage = take(byOid, OID.keyUsage, 'keyUsage');
  const usage = readBitString(readWhole(keyUsage.value, TAG.BIT_STRING, 'KeyUsage'), 'KeyUsage');
  const keyCertSign = 0x80 >> KEY_USAGE_BIT.keyCertSign;
  if (!keyUsage.critical || ((usage.bytes[0] ?? 0) & keyCertSign) === 0) {
    throw malformed('keyUsage is not critical with keyCertSign');
  }

  const ski = take(byOid, OID.subjectKeyIdentifier, 'subjectKeyIdentifier');
  const identifier = readWhole(ski.value, TAG.OCTET_STRING, 'SubjectKeyIdentifier').contents;
  if (ski.critical || identifier.byteLength === 0 || identifier.byteLength > MAX_KEY_IDENTIFIER_BYTES) {
    throw malformed('subjectKeyIdentifier is critical, empty or too long');
  }

  // RFC 5280 4.2: a certificate with an unrecognized critical extension must be rejected.
  for (const rest of byOid.values()) if (rest.critical) throw malformed('an unknown critical extension');
  return { pathLength, subjectKeyIdentifier: Uint8Array.from(identifier) };
}
