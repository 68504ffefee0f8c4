import { derToP1363, encodeHex, parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import { MAX_CERTIFICATE_BYTES } from '@orbis/protocol';
import { CertificateError } from '../errors.ts';
import {
  contextTag,
  decodeBitString,
  decodeSmallUnsigned,
  decodeUnsigned,
  equalBytes,
  malformed,
  readerOf,
  readWhole,
  TAG,
  type DerElement,
  type DerReader,
} from './der.ts';
import {
  decodeExtensions,
  readExtensions,
  type CertificateExtension,
  type DecodedExtensions,
} from './extensions.ts';
import { parseName, type DistinguishedName } from './name.ts';
import { ECDSA_WITH_SHA256_DER } from './oids.ts';
import { decodeTime } from './time.ts';

/**
 * A certificate whose structure is valid DER X.509 v3, signed (it says) with ecdsa-with-SHA256
 * and holding a canonical P-256 key. Nothing in it is trusted until a chain check verifies it.
 */
export interface ParsedCertificate extends DecodedExtensions {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** The DER of tbsCertificate: the bytes the issuer's signature covers. */
  readonly tbs: Uint8Array;
  readonly version: 3;
  /** The serial number's magnitude, lowercase hex without a sign octet. */
  readonly serialNumber: string;
  readonly signatureAlgorithm: 'ecdsa-with-SHA256';
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  /** Milliseconds since the Unix epoch; the validity period includes both ends (RFC 5280 4.1.2.5). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly publicKey: PublicKey;
  /** Every extension by OID, recognised or not (unrecognised ones are non-critical). */
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
  /** The issuer's ECDSA signature, strict DER `SEQUENCE { r, s }`. */
  readonly signatureValue: Uint8Array;
}

/** RFC 5280 4.1.2.2: serial numbers are positive and at most 20 octets. */
const MAX_SERIAL_NUMBER_BYTES = 20;
const VERSION_3 = 2;

function readVersion(reader: DerReader): void {
  const explicit = reader.optional(contextTag(0, true), 'version');
  // An absent version is v1 (DEFAULT); DER never encodes v1 explicitly, so any other value is refused too.
  const version =
    explicit === undefined
      ? 0
      : decodeSmallUnsigned(readWhole(explicit.content, TAG.integer, 'version'), 0xff, 'version');
  if (version !== VERSION_3) {
    throw new CertificateError('CERT_VERSION_UNSUPPORTED', `X.509 version ${version + 1}; only v3 is read`);
  }
}

function readSerialNumber(element: DerElement): string {
  const magnitude = decodeUnsigned(element, 'the serial number');
  if (element.content.byteLength > MAX_SERIAL_NUMBER_BYTES)
    throw malformed('the serial number is over 20 octets');
  if (magnitude.every((byte) => byte === 0)) throw malformed('the serial number is zero');
  return encodeHex(magnitude);
}

function assertAlgorithm(element: DerElement, what: string): void {
  if (!equalBytes(element.der, ECDSA_WITH_SHA256_DER)) {
    throw new CertificateError('CERT_UNSUPPORTED_ALGORITHM', `${what} is not ecdsa-with-SHA256`);
  }
}

function readPublicKey(element: DerElement): PublicKey {
  try {
    return parsePublicKeySpki(element.der);
  } catch (cause) {
    throw new CertificateError('CERT_KEY_UNSUPPORTED', 'the subject key is not a canonical P-256 key', {
      cause,
    });
  }
}

function readSignatureValue(element: DerElement): Uint8Array {
  const { bytes, unusedBits } = decodeBitString(element, 'signatureValue');
  if (unusedBits !== 0) throw malformed('signatureValue is not whole octets');
  try {
    derToP1363(bytes);
  } catch (cause) {
    throw malformed('signatureValue is not a strict DER ECDSA P-256 signature', cause);
  }
  return bytes;
}

type TbsFields = Omit<ParsedCertificate, 'der' | 'tbs' | 'signatureAlgorithm' | 'signatureValue'>;

/**
 * TBSCertificate (RFC 5280 4.1): version, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, then extensions. issuerUniqueID and subjectUniqueID, which conforming
 * CAs never write (4.1.2.8), are refused as unexpected bytes.
 */
function readTbs(tbs: DerElement): TbsFields {
  const reader = readerOf(tbs, 'tbsCertificate');
  readVersion(reader);
  const serialNumber = readSerialNumber(reader.expect(TAG.integer, 'serialNumber'));
  assertAlgorithm(reader.expect(TAG.sequence, 'signature'), 'the signature algorithm');
  const issuer = parseName(reader.expect(TAG.sequence, 'issuer'), 'the issuer');
  const validity = readerOf(reader.expect(TAG.sequence, 'validity'), 'validity');
  const notBefore = decodeTime(validity.next('notBefore'), 'notBefore');
  const notAfter = decodeTime(validity.next('notAfter'), 'notAfter');
  validity.end();
  const subject = parseName(reader.expect(TAG.sequence, 'subject'), 'the subject');
  const publicKey = readPublicKey(reader.expect(TAG.sequence, 'subjectPublicKeyInfo'));
  const explicit = reader.optional(contextTag(3, true), 'extensions');
  reader.end();
  const extensions =
    explicit === undefined
      ? new Map<string, CertificateExtension>()
      : readExtensions(readWhole(explicit.content, TAG.sequence, 'extensions'));
  return {
    version: 3,
    serialNumber,
    issuer,
    notBefore,
    notAfter,
    subject,
    publicKey,
    extensions,
    ...decodeExtensions(extensions),
  };
}

/**
 * Strict, bounded parse of one DER certificate. Checks the size before reading, refuses
 * anything but v3 with ecdsa-with-SHA256 (the same AlgorithmIdentifier inside and outside the
 * signed part) and a canonical P-256 key, refuses unknown critical extensions, duplicate
 * extensions and trailing bytes. Verifies no signature: see verifyDeviceCertificateChain.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (der.byteLength > MAX_CERTIFICATE_BYTES) {
    throw new CertificateError('CERT_TOO_LARGE', `a certificate is at most ${MAX_CERTIFICATE_BYTES} bytes`);
  }
  // Parse a private copy, so no field can change if the caller reuses its buffer.
  const bytes = Uint8Array.from(der);
  const certificate = readerOf(readWhole(bytes, TAG.sequence, 'Certificate'), 'Certificate');
  const tbs = certificate.expect(TAG.sequence, 'tbsCertificate');
  const algorithm = certificate.expect(TAG.sequence, 'signatureAlgorithm');
  const signature = certificate.expect(TAG.bitString, 'signatureValue');
  certificate.end();
  const fields = readTbs(tbs);
  // 4.1.1.2: must equal the signature field inside tbsCertificate; both are the one constant.
  assertAlgorithm(algorithm, 'the outer signature algorithm');
  return {
    ...fields,
    der: bytes,
    tbs: tbs.der,
    signatureAlgorithm: 'ecdsa-with-SHA256',
    signatureValue: readSignatureValue(signature),
  };
}
