import { deviceIdFromPublicKey, generateSoftwareSigner, type Signer } from '@orbis/crypto';
import {
  DEVICE_CERTIFICATE_BACKDATE_SECONDS,
  DEVICE_CERTIFICATE_LIFETIME_SECONDS,
  TENANT_CA_LIFETIME_DAYS,
} from '@orbis/protocol';
import { cryptoRandom, SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID, SAMPLE_TENANT_ID } from '@orbis/testkit';
import type { CaCertificate } from './ca-certificate/ca-certificate.ts';
import { createCaCertificate } from './ca-certificate/create-ca-certificate.ts';
import type { DeviceCertificateRequest, IssuerScope } from './device-certificate/authorize.ts';
import { createDeviceCertificateIssuer, type DeviceCertificateIssuer } from './device-certificate/issuer.ts';

/** A fixed "now" for certificate tests: 2026-11-22T12:00:00Z, checked with `openssl verify -attime`. */
export const NOW = Date.UTC(2026, 10, 22, 12);
export const DAY_MS = 24 * 60 * 60 * 1000;

export interface FixtureCa {
  readonly signer: Signer;
  readonly caCertificate: CaCertificate;
}

/** A tenant-CA-shaped anchor valid from a day before NOW for TENANT_CA_LIFETIME_DAYS. */
export async function fixtureCa(pathLength = 0): Promise<FixtureCa> {
  const { signer } = generateSoftwareSigner();
  const caCertificate = await createCaCertificate({
    signer,
    random: cryptoRandom,
    notBefore: NOW - DAY_MS,
    notAfter: NOW - DAY_MS + TENANT_CA_LIFETIME_DAYS * DAY_MS,
    pathLength,
  });
  return { signer, caCertificate };
}

export async function fixtureIssuer(
  scope: IssuerScope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID },
): Promise<FixtureCa & { issuer: DeviceCertificateIssuer }> {
  const ca = await fixtureCa();
  return { ...ca, issuer: createDeviceCertificateIssuer({ ...ca, random: cryptoRandom, scope }) };
}

/** A request as the service makes it at NOW: a fresh device, its own certificate key. */
export function deviceRequest(overrides: Partial<DeviceCertificateRequest> = {}): DeviceCertificateRequest {
  return {
    deviceId: deviceIdFromPublicKey(generateSoftwareSigner().signer.publicKey),
    tenantId: SAMPLE_TENANT_ID,
    productId: SAMPLE_PRODUCT_ID,
    groupId: SAMPLE_GROUP_ID,
    resultClass: 'trusted',
    certificateKey: generateSoftwareSigner().signer.publicKey,
    notBefore: NOW - DEVICE_CERTIFICATE_BACKDATE_SECONDS * 1000,
    notAfter: NOW + DEVICE_CERTIFICATE_LIFETIME_SECONDS * 1000,
    ...overrides,
  };
}
