import {
  ATTESTATION_POLICY_OIDS,
  ATTESTATION_RESULT_CLASSES,
  DEVICE_CERTIFICATE_BACKDATE_SECONDS,
  DEVICE_CERTIFICATE_LIFETIME_SECONDS,
  GROUP_ASSIGNMENT_EXTENSION_OID,
  NO_REV_AVAIL_OID,
  type AttestationResultClass,
} from '@orbis/protocol';
import {
  encodeDer,
  ia5String,
  implicit,
  namedBitString,
  nullValue,
  objectIdentifier,
  octetString,
  sequence,
  utf8String,
  type DerNode,
} from '../der/index.ts';
import { extension } from '../x509/extension.ts';
import { KEY_USAGE_BIT, OID } from '../x509/oids.ts';

/**
 * The device-certificate profile (ARCHITECTURE.md, "Device certificate profile";
 * docs/formats/device-certificate.md), as encoded extensions. Everything that does not depend
 * on the device is encoded here once; the issuer adds the per-CA authorityKeyIdentifier and
 * the two per-device extensions (subjectAltName, group assignment).
 */

/** The longest validity a device certificate may have: 24 hours plus the 5-minute backdate. */
export const MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS =
  DEVICE_CERTIFICATE_LIFETIME_SECONDS + DEVICE_CERTIFICATE_BACKDATE_SECONDS;

/** Which extended key usages each attestation result class gets (RFC 5280 4.2.1.12). */
export const EXTENDED_KEY_USAGES: Readonly<
  Record<AttestationResultClass, readonly ('clientAuth' | 'serverAuth')[]>
> = Object.freeze({
  trusted: Object.freeze(['clientAuth', 'serverAuth'] as const),
  development: Object.freeze(['clientAuth', 'serverAuth'] as const),
  // An outdated device may reach update and report routes as a client, and serve no one.
  'update-only': Object.freeze(['clientAuth'] as const),
});

/** RFC 5280 4.2.1.3: critical, digitalSignature only (ECDSA in the TLS handshake). */
export const KEY_USAGE_EXTENSION = encodeDer(
  extension(OID.keyUsage, true, namedBitString([KEY_USAGE_BIT.digitalSignature])),
);

/**
 * RFC 9608 section 2: noRevAvail, non-critical, extnValue the DER of NULL. The certificate
 * lives 24 hours and nothing revokes it, so it carries no CRL distribution point and no AIA.
 */
export const NO_REV_AVAIL_EXTENSION = encodeDer(
  extension(objectIdentifier(NO_REV_AVAIL_OID), false, nullValue()),
);

const GROUP_ASSIGNMENT_OID = objectIdentifier(GROUP_ASSIGNMENT_EXTENSION_OID);

/** The two extensions that differ by class, encoded for each class once. */
export interface ClassExtensions {
  readonly extKeyUsage: Uint8Array;
  readonly certificatePolicies: Uint8Array;
}

function classExtensions(resultClass: AttestationResultClass): ClassExtensions {
  return {
    // Non-critical (RFC 5280 4.2.1.12 leaves it to the CA): relying parties read it either way.
    extKeyUsage: encodeDer(
      extension(
        OID.extKeyUsage,
        false,
        sequence(...EXTENDED_KEY_USAGES[resultClass].map((usage) => OID[usage])),
      ),
    ),
    // certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier } (RFC 5280 4.2.1.4).
    certificatePolicies: encodeDer(
      extension(
        OID.certificatePolicies,
        false,
        sequence(sequence(objectIdentifier(ATTESTATION_POLICY_OIDS[resultClass]))),
      ),
    ),
  };
}

export const CLASS_EXTENSIONS: Readonly<Record<AttestationResultClass, ClassExtensions>> = Object.freeze(
  Object.fromEntries(ATTESTATION_RESULT_CLASSES.map((name) => [name, classExtensions(name)])) as Record<
    AttestationResultClass,
    ClassExtensions
  >,
);

/** RFC 5280 4.2.1.1: authorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }. */
export function authorityKeyIdentifierExtension(caKeyIdentifier: Uint8Array): Uint8Array {
  return encodeDer(
    extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, octetString(caKeyIdentifier)))),
  );
}

/**
 * subjectAltName with one uniformResourceIdentifier, `[6] IMPLICIT IA5String` (RFC 5280
 * 4.2.1.6). Non-critical, as the subject (CN = device ID) is not empty.
 */
export function subjectAltNameExtension(uri: string): DerNode {
  return extension(OID.subjectAltName, false, sequence(implicit(6, ia5String(uri))));
}

/** The Orbis group-assignment extension: SEQUENCE { tenantId, productId, groupId } as UTF8Strings. */
export function groupAssignmentExtension(tenantId: string, productId: string, groupId: string): DerNode {
  return extension(
    GROUP_ASSIGNMENT_OID,
    false,
    sequence(utf8String(tenantId), utf8String(productId), utf8String(groupId)),
  );
}
