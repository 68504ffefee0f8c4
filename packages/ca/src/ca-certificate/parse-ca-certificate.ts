import { CryptoError, encodeHex, isValidSignature, parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import { TAG } from '../der/index.ts';
import {
  expectTag,
  malformed,
  readBitString,
  readChildren,
  readUnsignedInteger,
  readWhole,
  readX509Time,
  type DerElement,
} from '../der/reader.ts';
import { CaError } from '../errors.ts';
import { ECDSA_WITH_SHA256, VERSION_3 } from '../x509/oids.ts';
import { readCaExtensions } from './ca-extensions.ts';
import { isCaCertificate, recordCaCertificate, type CaCertificate } from './ca-certificate.ts';

/** Largest CA certificate read back, in bytes; an Orbis CA certificate is about 400. */
export const MAX_CA_CERTIFICATE_BYTES = 4096;
/** RFC 5280 4.1.2.2: conforming CAs use serial numbers of at most 20 octets. */
const MAX_SERIAL_NUMBER_BYTES = 20;
const CONTEXT_3 = 0xa3;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}

function readKey(spki: DerElement | undefined): PublicKey {
  try {
    return parsePublicKeySpki(expectTag(spki, TAG.SEQUENCE, 'SubjectPublicKeyInfo').encoded);
  } catch (cause) {
    if (!(cause instanceof CryptoError)) throw cause;
    throw malformed('the key is not a canonical P-256 key', cause);
  }
}

function readValidity(validity: DerElement | undefined): { notBefore: number; notAfter: number } {
  const [notBefore, notAfter, extra] = readChildren(
    expectTag(validity, TAG.SEQUENCE, 'Validity'),
    'Validity',
  );
  if (extra !== undefined) throw malformed('Validity with extra fields');
  const times = {
    notBefore: readX509Time(notBefore, 'notBefore'),
    notAfter: readX509Time(notAfter, 'notAfter'),
  };
  if (times.notAfter <= times.notBefore) throw malformed('notAfter is not after notBefore');
  return times;
}

/**
 * TBSCertificate (RFC 5280 4.1.2), in the one shape createCaCertificate (and, with
 * `issuerName`, createIntermediateCaCertificate) writes.
 */
function readTbs(tbs: DerElement, issuerName: Uint8Array | undefined) {
  const [version, serial, signature, issuer, validity, subject, spki, extensions, extra] = readChildren(
    tbs,
    'TBSCertificate',
  );
  if (version === undefined || !sameBytes(version.encoded, VERSION_3)) throw malformed('not X.509 version 3');
  const serialNumber = readUnsignedInteger(serial, 'serialNumber');
  if (
    serialNumber.byteLength > MAX_SERIAL_NUMBER_BYTES ||
    (serialNumber.byteLength === 1 && serialNumber[0] === 0)
  ) {
    throw malformed('the serial number is zero or longer than 20 octets');
  }
  if (signature === undefined || !sameBytes(signature.encoded, ECDSA_WITH_SHA256)) {
    throw malformed('not signed with ecdsa-with-SHA256');
  }
  const subjectName = expectTag(subject, TAG.SEQUENCE, 'a subject Name');
  if (subjectName.contents.byteLength === 0) throw malformed('an empty subject'); // RFC 5280 4.1.2.6
  const issuerEncoded = expectTag(issuer, TAG.SEQUENCE, 'an issuer Name').encoded;
  if (issuerName === undefined) {
    // Self-issued: the anchors Orbis hands out are their own issuers (ARCHITECTURE.md, "Tenant CA").
    if (!sameBytes(issuerEncoded, subjectName.encoded)) throw malformed('not self-issued');
  } else if (!sameBytes(issuerEncoded, issuerName) || sameBytes(issuerEncoded, subjectName.encoded)) {
    // RFC 5280 4.1.2.4: name chaining; an intermediate is never its own issuer.
    throw malformed('the issuer is not the given CA, or the certificate is self-issued');
  }
  // No issuerUniqueID or subjectUniqueID (RFC 5280 4.1.2.8: CAs must not generate them).
  if (extra !== undefined) throw malformed('fields after the extensions');
  return {
    serialNumber: encodeHex(serialNumber),
    subjectName: Uint8Array.from(subjectName.encoded),
    ...readValidity(validity),
    publicKey: readKey(spki),
    ...readCaExtensions(expectTag(extensions, CONTEXT_3, 'extensions')),
  };
}

/**
 * Strict: takes a stored CA certificate back, accepting only the profile createCaCertificate
 * writes: X.509 v3, ecdsa-with-SHA256 inside and out, self-issued, a canonical P-256 key,
 * basicConstraints critical with cA, keyUsage critical with keyCertSign, a subjectKeyIdentifier,
 * no unknown critical extension, and a self-signature that verifies. Anything else is
 * CA_CERTIFICATE_INVALID. Time is not checked here: issuers compare each certificate they
 * issue against the CA's validity.
 */
export function parseCaCertificate(der: Uint8Array): CaCertificate {
  return parseSigned(der, undefined);
}

/**
 * The strict reading of a CA certificate, self-signed when `issuer` is undefined, else
 * certified by `issuer`: its name as the issuer Name, its key behind the signature.
 */
function parseSigned(der: Uint8Array, issuer: CaCertificate | undefined): CaCertificate {
  if (der.byteLength > MAX_CA_CERTIFICATE_BYTES)
    throw malformed(`larger than ${MAX_CA_CERTIFICATE_BYTES} bytes`);
  const certificate = readWhole(der, TAG.SEQUENCE, 'Certificate');
  const [tbs, algorithm, signatureValue, extra] = readChildren(certificate, 'Certificate');
  const fields = readTbs(expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'), issuer?.subjectName);
  // RFC 5280 4.1.1.2: the outer algorithm must equal the one inside the signed part.
  if (algorithm === undefined || !sameBytes(algorithm.encoded, ECDSA_WITH_SHA256) || extra !== undefined) {
    throw malformed('the outer signature algorithm differs, or bytes follow the signature');
  }
  const signature = readBitString(signatureValue, 'signatureValue');
  if (signature.unusedBits !== 0) throw malformed('a signature with unused bits');
  const signerKey = issuer?.publicKey ?? fields.publicKey;
  if (!isValidSignature(signerKey, (tbs as DerElement).encoded, signature.bytes, 'der')) {
    throw malformed(
      issuer === undefined ? 'the self-signature does not verify' : "the issuer's signature does not verify",
    );
  }
  return recordCaCertificate({ der: Uint8Array.from(der), ...fields });
}

/**
 * Strict, like parseCaCertificate, for an intermediate that createIntermediateCaCertificate
 * wrote: issued (name and signature) by `issuer`, which must itself come from this package,
 * with a key of its own and a path length below the issuer's (RFC 5280 4.2.1.9). The
 * authorityKeyIdentifier is not read back: the issuer's signature already binds the two.
 */
export function parseIntermediateCaCertificate(der: Uint8Array, issuer: CaCertificate): CaCertificate {
  if (!isCaCertificate(issuer)) {
    throw new CaError(
      'CA_ISSUER_INVALID',
      'the issuer must come from createCaCertificate or a parse function',
    );
  }
  const intermediate = parseSigned(der, issuer);
  if (intermediate.publicKey.keyId === issuer.publicKey.keyId) throw malformed("the issuer's own key");
  if (intermediate.pathLength === null || !isPathLengthBelow(intermediate.pathLength, issuer)) {
    throw malformed("no path length, or one the issuer's path length does not allow");
  }
  return intermediate;
}

/** Whether a CA with `pathLength` may sit directly below `issuer` (RFC 5280 6.1.4 (l), (m)). */
export function isPathLengthBelow(pathLength: number, issuer: CaCertificate): boolean {
  return issuer.pathLength === null || pathLength < issuer.pathLength;
}
