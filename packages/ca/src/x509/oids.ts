import { encodeDer, explicit, objectIdentifier, sequence, smallInteger } from '../der/index.ts';

/**
 * The object identifiers and fixed fragments every Orbis certificate uses, encoded once at
 * load time. Arcs are those of RFC 5280 (section 4.1.2.3 and 4.2), RFC 5758 section 3.2
 * (ecdsa-with-SHA256) and RFC 9608 (noRevAvail).
 */

/** `[0] EXPLICIT INTEGER 2`: X.509 version 3 (RFC 5280 4.1.2.1). */
export const VERSION_3 = encodeDer(explicit(0, smallInteger(2)));

/** ecdsa-with-SHA256 with the parameters field absent, as RFC 5758 3.2 requires. */
export const ECDSA_WITH_SHA256 = encodeDer(sequence(objectIdentifier('1.2.840.10045.4.3.2')));

export const OID = Object.freeze({
  commonName: objectIdentifier('2.5.4.3'),
  organizationName: objectIdentifier('2.5.4.10'),
  subjectKeyIdentifier: objectIdentifier('2.5.29.14'),
  keyUsage: objectIdentifier('2.5.29.15'),
  subjectAltName: objectIdentifier('2.5.29.17'),
  basicConstraints: objectIdentifier('2.5.29.19'),
  certificatePolicies: objectIdentifier('2.5.29.32'),
  authorityKeyIdentifier: objectIdentifier('2.5.29.35'),
  extKeyUsage: objectIdentifier('2.5.29.37'),
  serverAuth: objectIdentifier('1.3.6.1.5.5.7.3.1'),
  clientAuth: objectIdentifier('1.3.6.1.5.5.7.3.2'),
});

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KEY_USAGE_BIT = Object.freeze({ digitalSignature: 0, keyCertSign: 5 });
