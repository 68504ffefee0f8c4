import { encodeDer, explicit, integer, sequence } from '../der/index.ts';
import { deviceSubjectName } from '../x509/name.ts';
import { ECDSA_WITH_SHA256, VERSION_3 } from '../x509/oids.ts';
import { encodeValidity } from '../x509/validity.ts';
import {
  CLASS_EXTENSIONS,
  groupAssignmentExtension,
  KEY_USAGE_EXTENSION,
  NO_REV_AVAIL_EXTENSION,
  subjectAltNameExtension,
} from './profile.ts';
import type { DeviceCertificateTemplate } from './sign-options.ts';

/** What stays the same for every certificate one CA issues, encoded when the issuer is made. */
export interface IssuerConstants {
  /** The CA certificate's subject Name, DER, copied verbatim (RFC 5280 4.1.2.4 name chaining). */
  readonly issuerName: Uint8Array;
  readonly authorityKeyIdentifier: Uint8Array;
}

/**
 * Step 3a: the TBSCertificate (RFC 5280 4.1.2) of a device certificate. Only the serial,
 * validity, subject, key, subjectAltName and group assignment are encoded per certificate.
 */
export function encodeDeviceTbs(template: DeviceCertificateTemplate, constants: IssuerConstants): Uint8Array {
  const { tenantId, productId, groupId } = template.groupAssignment;
  const byClass = CLASS_EXTENSIONS[template.resultClass];
  const tbs = sequence(
    VERSION_3,
    integer(template.serialNumber),
    ECDSA_WITH_SHA256,
    constants.issuerName,
    encodeValidity(template),
    deviceSubjectName(template.subjectCommonName),
    template.subjectPublicKeyInfo,
    explicit(
      3,
      sequence(
        subjectAltNameExtension(template.subjectAltNameUri),
        KEY_USAGE_EXTENSION,
        byClass.extKeyUsage,
        constants.authorityKeyIdentifier,
        NO_REV_AVAIL_EXTENSION,
        byClass.certificatePolicies,
        groupAssignmentExtension(tenantId, productId, groupId),
      ),
    ),
  );
  return encodeDer(tbs);
}
