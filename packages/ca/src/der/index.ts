/** A small, strict DER writer (X.690) for X.509, and the reader parseCaCertificate needs. */
export {
  TAG,
  tlv,
  container,
  encodeDer,
  sequence,
  setOf,
  explicit,
  implicit,
  lengthOctets,
  type Der,
  type DerNode,
  type DerPart,
} from './tlv.ts';
export {
  integer,
  smallInteger,
  boolean,
  nullValue,
  octetString,
  bitString,
  namedBitString,
} from './primitives.ts';
export { utf8String, printableString, ia5String } from './strings.ts';
export { objectIdentifier, oidContents, MAX_OID_TEXT_LENGTH } from './oid.ts';
export { utcTime, generalizedTime, x509Time, EARLIEST_X509_TIME_MS, LATEST_X509_TIME_MS } from './time.ts';
