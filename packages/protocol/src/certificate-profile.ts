/**
 * The device-certificate profile (ARCHITECTURE.md, "Device certificate profile"): the object
 * identifiers and names that the issuer in packages/ca writes and the verifier in
 * packages/verify reads. Orbis's own OIDs sit under an arc derived from a UUID (ITU-T X.667,
 * `2.25.<the UUID as one integer>`), which needs no registration.
 */

/** The UUID this arc is derived from: 6f0e3c2a-9b1d-4e8f-a5c7-2d4b6e8f0a1c. */
export const ORBIS_OID_ARC = `2.25.${BigInt('0x6f0e3c2a9b1d4e8fa5c72d4b6e8f0a1c').toString()}`;

/** What attestation concluded, carried as the certificate's policy (RFC 5280 section 4.2.1.4). */
export const ATTESTATION_RESULT_CLASSES = ['trusted', 'development', 'update-only'] as const;
export type AttestationResultClass = (typeof ATTESTATION_RESULT_CLASSES)[number];

export const ATTESTATION_POLICY_OIDS: Readonly<Record<AttestationResultClass, string>> = Object.freeze({
  trusted: `${ORBIS_OID_ARC}.1.1`,
  development: `${ORBIS_OID_ARC}.1.2`,
  'update-only': `${ORBIS_OID_ARC}.1.3`,
});

/**
 * The group-assignment extension (non-critical): extnValue is the DER of
 * `SEQUENCE { tenantId UTF8String, productId UTF8String, groupId UTF8String }`, each a
 * lowercase UUID. The certificate doubles as the service-signed assignment and time.
 */
export const GROUP_ASSIGNMENT_EXTENSION_OID = `${ORBIS_OID_ARC}.2.1`;

/** noRevAvail (RFC 9608): the certificate is short-lived, so no revocation information exists. */
export const NO_REV_AVAIL_OID = '2.5.29.56';

/** The one URI in a device certificate's subjectAltName. */
export function deviceUri(tenantId: string, deviceId: string): string {
  return `urn:orbis:tenant:${tenantId}:device:${deviceId}`;
}

export const DEVICE_URI_PATTERN =
  /^urn:orbis:tenant:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):device:([0-9a-f]{64})$/;

/** Tenant CAs: self-signed P-256 anchors valid 2 years, rotated from 90 days before expiry. */
export const TENANT_CA_LIFETIME_DAYS = 730;
export const TENANT_CA_ROTATION_LEAD_DAYS = 90;
/** The new anchor is published first and signs from this many days into the rotation. */
export const TENANT_CA_ROTATION_OVERLAP_DAYS = 45;
