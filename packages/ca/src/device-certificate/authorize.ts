import { isDeviceId, P256_SPKI_BYTES, type DeviceId, type PublicKey } from '@orbis/crypto';
import { ATTESTATION_RESULT_CLASSES, UUID_PATTERN, type AttestationResultClass } from '@orbis/protocol';
import { CaError } from '../errors.ts';
import { wholeSecondValidity, type Validity } from '../x509/validity.ts';
import { MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS } from './profile.ts';

/**
 * Step 1 of issuance (authorize → sign options → sign): is this CA allowed to certify this
 * request at all? Every check refuses with its own CA_* code; nothing is corrected silently.
 */

/**
 * Which certificates an issuer may write. A tenant CA certifies its own tenant's trusted and
 * development devices; the update CA certifies outdated devices of any tenant, update-only.
 */
export type IssuerScope =
  { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'update' };

const CLASSES_BY_SCOPE: Readonly<Record<IssuerScope['kind'], readonly AttestationResultClass[]>> = {
  tenant: ['trusted', 'development'],
  update: ['update-only'],
};

/** What the service asks for after appraising evidence. */
export interface DeviceCertificateRequest {
  /** 64 lowercase hex characters: the SHA-256 of the identity key's canonical SPKI. */
  readonly deviceId: string;
  /** Lowercase UUIDs. */
  readonly tenantId: string;
  readonly productId: string;
  readonly groupId: string;
  readonly resultClass: AttestationResultClass;
  /** The certificate key the root of trust generated (cnf.jwk in the evidence), not the identity key. */
  readonly certificateKey: PublicKey;
  /** Milliseconds since the Unix epoch (the service: now − 5 minutes and now + 24 hours). */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** A request this CA may sign, with its validity floored to whole seconds. */
export interface AuthorizedDeviceCertificate extends Validity {
  readonly deviceId: DeviceId;
  readonly tenantId: string;
  readonly productId: string;
  readonly groupId: string;
  readonly resultClass: AttestationResultClass;
  readonly certificateKey: PublicKey;
}

const UUID = new RegExp(UUID_PATTERN);

export function isLowercaseUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function authorizeClass(scope: IssuerScope, resultClass: unknown): AttestationResultClass {
  if (!ATTESTATION_RESULT_CLASSES.includes(resultClass as AttestationResultClass)) {
    throw new CaError('CA_RESULT_CLASS_INVALID', 'the result class is trusted, development or update-only');
  }
  if (!CLASSES_BY_SCOPE[scope.kind].includes(resultClass as AttestationResultClass)) {
    throw new CaError(
      'CA_RESULT_CLASS_NOT_ALLOWED',
      `a ${scope.kind} CA does not issue ${String(resultClass)}`,
    );
  }
  return resultClass as AttestationResultClass;
}

function authorizeKey(certificateKey: unknown, deviceId: string): PublicKey {
  const key = certificateKey as Partial<PublicKey> | null | undefined;
  if (key?.kind !== 'p256-public-key' || key.spki?.byteLength !== P256_SPKI_BYTES) {
    throw new CaError('CA_CERTIFICATE_KEY_INVALID', 'the certificate key is not a parsed P-256 public key');
  }
  // The identity key only signs evidence inside the root of trust; a certificate for it would
  // let TLS use it as a signing oracle and tie every session to the permanent identity.
  if (key.keyId === deviceId) {
    throw new CaError('CA_CERTIFICATE_KEY_INVALID', "the certificate key is the device's identity key");
  }
  return certificateKey as PublicKey;
}

function authorizeValidity(request: DeviceCertificateRequest, ca: Validity): Validity {
  const validity = wholeSecondValidity(request.notBefore, request.notAfter);
  if (validity.notAfter - validity.notBefore > MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS * 1000) {
    throw new CaError(
      'CA_VALIDITY_INVALID',
      `a device certificate lives at most ${MAX_DEVICE_CERTIFICATE_VALIDITY_SECONDS} seconds`,
    );
  }
  // A certificate must end while its CA is valid: an expired (or not yet valid) CA issues nothing.
  if (validity.notAfter <= ca.notBefore || validity.notAfter > ca.notAfter) {
    throw new CaError('CA_VALIDITY_INVALID', "the certificate would end outside the CA's validity");
  }
  return validity;
}

/** Checks `request` against this issuer's scope and validity; returns what may be signed. */
export function authorizeDeviceCertificate(
  scope: IssuerScope,
  caValidity: Validity,
  request: DeviceCertificateRequest,
): AuthorizedDeviceCertificate {
  const resultClass = authorizeClass(scope, request.resultClass);
  const { deviceId, tenantId, productId, groupId } = request;
  if (!isDeviceId(deviceId)) {
    throw new CaError('CA_DEVICE_ID_INVALID', 'a device ID is 64 lowercase hexadecimal characters');
  }
  if (!isLowercaseUuid(tenantId) || !isLowercaseUuid(productId) || !isLowercaseUuid(groupId)) {
    throw new CaError('CA_ASSIGNMENT_INVALID', 'tenant, product and group IDs are lowercase UUIDs');
  }
  if (scope.kind === 'tenant' && tenantId !== scope.tenantId) {
    throw new CaError('CA_TENANT_MISMATCH', "a tenant CA certifies only its own tenant's devices");
  }
  const certificateKey = authorizeKey(request.certificateKey, deviceId);
  const validity = authorizeValidity(request, caValidity);
  return { deviceId, tenantId, productId, groupId, resultClass, certificateKey, ...validity };
}
