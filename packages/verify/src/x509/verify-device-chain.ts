import type { DeviceId, PublicKey } from '@orbis/crypto';
import {
  ATTESTATION_POLICY_OIDS,
  ATTESTATION_RESULT_CLASSES,
  DEVICE_URI_PATTERN,
  MAX_CERTIFICATE_CHAIN_LENGTH,
  type AttestationResultClass,
} from '@orbis/protocol';
import { CertificateError } from '../errors.ts';
import type { GroupAssignment } from './extension-values.ts';
import { verifyIssuedByAnchor } from './issued-by-anchor.ts';
import { OID } from './oids.ts';
import { parseCertificate, type ParsedCertificate } from './parse-certificate.ts';

export interface VerifyDeviceCertificateChainOptions {
  /**
   * The self-signed CA anchors of a tenant (current and next), parsed once when loaded. Called
   * with the tenant the certificate's URI names; return none for an unknown tenant.
   */
  readonly anchorsForTenant: (tenantId: string) => readonly ParsedCertificate[];
  /**
   * The update CA's anchors: the only issuers accepted for update-only certificates, and never
   * for any other class. Leave out where update-only certificates are not accepted at all.
   */
  readonly updateAnchors?: readonly ParsedCertificate[];
  /** Milliseconds since the Unix epoch. */
  readonly now: number;
  /** The attestation result classes this listener or route accepts. */
  readonly allowedClasses: readonly AttestationResultClass[];
}

/** A device certificate that chains to the named tenant's anchor and matches the profile. */
export interface VerifiedDeviceCertificate {
  readonly deviceId: DeviceId;
  readonly tenantId: string;
  readonly resultClass: AttestationResultClass;
  readonly notBefore: number;
  /** Milliseconds since the Unix epoch: close long-lived connections at this time. */
  readonly notAfter: number;
  /** Lowercase hex. */
  readonly serial: string;
  readonly groupAssignment: GroupAssignment;
  /** The certificate key (the device's TLS key), for device-to-device use. */
  readonly publicKey: PublicKey;
}

function profileInvalid(reason: string): CertificateError {
  return new CertificateError('CERT_PROFILE_INVALID', `device certificate: ${reason}`);
}

/** The one URI SAN, `urn:orbis:tenant:<tenant-id>:device:<device-id>`, and nothing else. */
function readDeviceUri(leaf: ParsedCertificate): { tenantId: string; deviceId: DeviceId } {
  const san = leaf.subjectAltName;
  const [uri] = san?.uris ?? [];
  if (san === undefined || san.otherCount !== 0 || san.uris.length !== 1 || uri === undefined) {
    throw profileInvalid('subjectAltName must hold exactly one URI');
  }
  const match = DEVICE_URI_PATTERN.exec(uri);
  if (match === null) throw profileInvalid('the URI is not an Orbis device URI');
  return { tenantId: match[1] as string, deviceId: match[2] as DeviceId };
}

const CLASS_BY_POLICY = new Map(
  ATTESTATION_RESULT_CLASSES.map((name) => [ATTESTATION_POLICY_OIDS[name], name]),
);

/** certificatePolicies holds exactly one policy, an attestation result class. */
function readResultClass(leaf: ParsedCertificate): AttestationResultClass {
  const policies = leaf.certificatePolicies ?? [];
  const resultClass = policies.length === 1 ? CLASS_BY_POLICY.get(policies[0] as string) : undefined;
  if (resultClass === undefined)
    throw profileInvalid('certificatePolicies must name one attestation result class');
  return resultClass;
}

/**
 * The rest of the device-certificate profile (ARCHITECTURE.md, Identities and keys): subject
 * exactly CN = the device ID, keyUsage critical digitalSignature only, extKeyUsage with
 * clientAuth, noRevAvail, and a group assignment for the same tenant.
 */
function assertDeviceProfile(leaf: ParsedCertificate, tenantId: string, deviceId: DeviceId): GroupAssignment {
  if (leaf.subject.rdns.flat().length !== 1 || leaf.subject.commonName !== deviceId) {
    throw profileInvalid('the subject must be exactly CN = the device ID in the URI');
  }
  const keyUsage = leaf.extensions.get(OID.keyUsage);
  if (keyUsage?.critical !== true || leaf.keyUsage?.join() !== 'digitalSignature') {
    throw profileInvalid('keyUsage must be critical and exactly digitalSignature');
  }
  if (leaf.extKeyUsage?.includes(OID.clientAuth) !== true)
    throw profileInvalid('extKeyUsage lacks clientAuth');
  if (!leaf.noRevAvail) throw profileInvalid('noRevAvail is missing');
  const assignment = leaf.groupAssignment;
  if (assignment?.tenantId !== tenantId) {
    throw profileInvalid('the group assignment is missing or names another tenant');
  }
  return assignment;
}

/**
 * Verifies a device's presented certificate chain (ARCHITECTURE.md, The device listener). Only
 * `chain[0]`, the leaf, is read. The tenant its URI names selects the anchors (the update CA's
 * for update-only certificates); the leaf must be signed directly by one of them. Every other
 * certificate in the chain is ignored, so a device of tenant B that presents its own CA (or any
 * CA) as an intermediate gains nothing, and a self-signed leaf carrying a real device ID has
 * no anchor to chain to.
 */
export function verifyDeviceCertificateChain(
  chain: readonly Uint8Array[],
  options: VerifyDeviceCertificateChainOptions,
): VerifiedDeviceCertificate {
  const [leafDer] = chain;
  if (leafDer === undefined || chain.length > MAX_CERTIFICATE_CHAIN_LENGTH) {
    throw new CertificateError(
      'CERT_CHAIN_INVALID',
      `a chain holds 1 to ${MAX_CERTIFICATE_CHAIN_LENGTH} certificates`,
    );
  }
  const leaf = parseCertificate(leafDer);
  const { tenantId, deviceId } = readDeviceUri(leaf);
  const resultClass = readResultClass(leaf);
  const anchors =
    resultClass === 'update-only' ? (options.updateAnchors ?? []) : options.anchorsForTenant(tenantId);
  verifyIssuedByAnchor(leaf, anchors, options.now);
  const groupAssignment = assertDeviceProfile(leaf, tenantId, deviceId);
  if (!options.allowedClasses.includes(resultClass)) {
    throw new CertificateError('CERT_CLASS_NOT_ALLOWED', `${resultClass} certificates are not accepted here`);
  }
  return {
    deviceId,
    tenantId,
    resultClass,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    serial: leaf.serialNumber,
    groupAssignment,
    publicKey: leaf.publicKey,
  };
}
