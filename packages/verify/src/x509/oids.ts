import { GROUP_ASSIGNMENT_EXTENSION_OID, NO_REV_AVAIL_OID } from '@orbis/protocol';

/** The object identifiers the certificate parser reads, in dotted form. */
export const OID = {
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  noRevAvail: NO_REV_AVAIL_OID,
  groupAssignment: GROUP_ASSIGNMENT_EXTENSION_OID,
  /** RFC 5280 section 4.2.1.12. */
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/**
 * AlgorithmIdentifier for ecdsa-with-SHA256 (1.2.840.10045.4.3.2) with the parameters absent,
 * as RFC 5758 section 3.2 requires: the one signature algorithm Orbis accepts in certificates.
 */
export const ECDSA_WITH_SHA256_DER = Uint8Array.from(Buffer.from('300a06082a8648ce3d040302', 'hex'));
