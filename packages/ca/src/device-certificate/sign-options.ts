import type { Random } from '@orbis/crypto';
import { deviceUri, type AttestationResultClass } from '@orbis/protocol';
import { drawSerialNumber } from '../x509/serial.ts';
import type { Validity } from '../x509/validity.ts';
import type { AuthorizedDeviceCertificate } from './authorize.ts';

/**
 * Step 2 of issuance (authorize → sign options → sign): what the certificate will say, as
 * plain data, before anything is encoded. The profile's rules live here and in profile.ts.
 */
export interface DeviceCertificateTemplate extends Validity {
  /** 16 bytes, positive, from the injected Random. */
  readonly serialNumber: Uint8Array;
  /** Subject CN: the device ID. */
  readonly subjectCommonName: string;
  /** The one URI in subjectAltName: `urn:orbis:tenant:<tenant-id>:device:<device-id>`. */
  readonly subjectAltNameUri: string;
  /** The certificate key's canonical SPKI, copied in as subjectPublicKeyInfo. */
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Selects the extKeyUsage (EXTENDED_KEY_USAGES) and the certificatePolicies OID. */
  readonly resultClass: AttestationResultClass;
  readonly groupAssignment: {
    readonly tenantId: string;
    readonly productId: string;
    readonly groupId: string;
  };
}

export function deviceCertificateTemplate(
  authorized: AuthorizedDeviceCertificate,
  random: Random,
): DeviceCertificateTemplate {
  const { deviceId, tenantId, productId, groupId } = authorized;
  return {
    serialNumber: drawSerialNumber(random),
    notBefore: authorized.notBefore,
    notAfter: authorized.notAfter,
    subjectCommonName: deviceId,
    subjectAltNameUri: deviceUri(tenantId, deviceId),
    subjectPublicKeyInfo: authorized.certificateKey.spki,
    resultClass: authorized.resultClass,
    groupAssignment: { tenantId, productId, groupId },
  };
}
