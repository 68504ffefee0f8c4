import { encodeHex, type Random, type Signer } from '@orbis/crypto';
import type { AttestationResultClass } from '@orbis/protocol';
import { isCaCertificate, type CaCertificate } from '../ca-certificate/ca-certificate.ts';
import { CaError } from '../errors.ts';
import { signCertificate } from '../x509/sign-certificate.ts';
import {
  authorizeDeviceCertificate,
  isLowercaseUuid,
  type DeviceCertificateRequest,
  type IssuerScope,
} from './authorize.ts';
import { encodeDeviceTbs, type IssuerConstants } from './encode.ts';
import { authorityKeyIdentifierExtension } from './profile.ts';
import { deviceCertificateTemplate } from './sign-options.ts';

export interface DeviceCertificateIssuerOptions {
  /** The issuing CA, from createCaCertificate or parseCaCertificate. */
  readonly caCertificate: CaCertificate;
  /** The CA's key handle; its public key must be the one in `caCertificate`. */
  readonly signer: Signer;
  /** Draws serial numbers. */
  readonly random: Random;
  /** Whose devices, and which classes, this CA certifies. */
  readonly scope: IssuerScope;
}

export interface IssuedDeviceCertificate {
  readonly der: Uint8Array;
  /** The serial number's 16 octets, lowercase hex. */
  readonly serialNumber: string;
  readonly resultClass: AttestationResultClass;
  /** The validity written, in milliseconds (whole seconds: the request's times floored). */
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface DeviceCertificateIssuer {
  readonly caCertificate: CaCertificate;
  readonly scope: IssuerScope;
  /** Authorizes, fills in and signs one device certificate; rejects with a CaError. */
  issue(request: DeviceCertificateRequest): Promise<IssuedDeviceCertificate>;
}

/** The scope comes from the service's configuration: checked here, not trusted for its type. */
function checkScope(scope: IssuerScope): IssuerScope {
  const { kind, tenantId } = scope as { kind?: unknown; tenantId?: unknown };
  if (kind === 'update') return Object.freeze({ kind: 'update' });
  if (kind !== 'tenant') throw new CaError('CA_ISSUER_INVALID', 'the scope is a tenant or the update CA');
  if (!isLowercaseUuid(tenantId)) {
    throw new CaError('CA_ASSIGNMENT_INVALID', "the issuer's tenant ID is not a lowercase UUID");
  }
  return Object.freeze({ kind: 'tenant', tenantId });
}

/**
 * The fast device-certificate issuer for one CA. Everything that does not change between
 * certificates (the issuer Name, the authorityKeyIdentifier extension, and in profile.ts the
 * fixed extensions) is checked and encoded here, once; `issue` then costs a few small copies
 * and the one signature. Issuance runs as authorize → sign options → sign, as in smallstep.
 */
export function createDeviceCertificateIssuer(
  options: DeviceCertificateIssuerOptions,
): DeviceCertificateIssuer {
  const { caCertificate, signer, random } = options;
  if (!isCaCertificate(caCertificate)) {
    throw new CaError(
      'CA_ISSUER_INVALID',
      'the CA certificate must come from createCaCertificate or parseCaCertificate',
    );
  }
  const scope = checkScope(options.scope);
  if (signer.publicKey.keyId !== caCertificate.publicKey.keyId) {
    throw new CaError('CA_SIGNER_MISMATCH', "the signer's key is not the CA certificate's key");
  }
  const constants: IssuerConstants = {
    issuerName: Uint8Array.from(caCertificate.subjectName),
    authorityKeyIdentifier: authorityKeyIdentifierExtension(caCertificate.subjectKeyIdentifier),
  };
  const caValidity = { notBefore: caCertificate.notBefore, notAfter: caCertificate.notAfter };

  async function issue(request: DeviceCertificateRequest): Promise<IssuedDeviceCertificate> {
    const authorized = authorizeDeviceCertificate(scope, caValidity, request);
    const template = deviceCertificateTemplate(authorized, random);
    const der = await signCertificate(signer, encodeDeviceTbs(template, constants));
    return {
      der,
      serialNumber: encodeHex(template.serialNumber),
      resultClass: template.resultClass,
      notBefore: template.notBefore,
      notAfter: template.notAfter,
    };
  }
  return Object.freeze({ caCertificate, scope, issue });
}

export interface IssueDeviceCertificateOptions extends DeviceCertificateIssuerOptions {
  readonly request: DeviceCertificateRequest;
}

/**
 * One certificate, without keeping an issuer: checks and encodes the per-CA parts on every
 * call. The service keeps one issuer per CA (createDeviceCertificateIssuer) instead.
 */
export async function issueDeviceCertificate(
  options: IssueDeviceCertificateOptions,
): Promise<IssuedDeviceCertificate> {
  return createDeviceCertificateIssuer(options).issue(options.request);
}
