import {
  createCaCertificate,
  createDeviceCertificateIssuer,
  type CaCertificate,
  type DeviceCertificateIssuer,
} from '@orbis/ca';
import { generateSoftwareSigner, type Random } from '@orbis/crypto';
import { issueTestCertificate, toPem, type TestCertificate } from '@orbis/testkit';
import { parseCertificate, type ParsedCertificate } from '@orbis/verify';
import type { AttestationPki } from '../attestation/attestation.service.ts';
import type { DeviceAnchors } from '../device/device-identity.ts';
import { systemRandom } from '../random.ts';

/**
 * Test-only: tenant CAs and an update CA made with packages/ca in memory, so attestation and
 * the device listener can be tested apart from how the service stores and rotates its CAs.
 */
export const testRandom: Random = systemRandom;

interface TestCa {
  readonly certificate: CaCertificate;
  readonly issuer: DeviceCertificateIssuer;
  readonly parsed: ParsedCertificate;
}

async function createTestCa(
  scope: { kind: 'tenant'; tenantId: string } | { kind: 'update' },
  now: number,
): Promise<TestCa> {
  const { signer } = generateSoftwareSigner();
  const certificate = await createCaCertificate({
    signer,
    random: testRandom,
    notBefore: now - 3_600_000,
    notAfter: now + 730 * 86_400_000,
  });
  return {
    certificate,
    issuer: createDeviceCertificateIssuer({ caCertificate: certificate, signer, random: testRandom, scope }),
    parsed: parseCertificate(certificate.der),
  };
}

export interface TestPki extends AttestationPki, DeviceAnchors {
  /** The tenant's CA, created on first use. */
  tenantCa(tenantId: string): Promise<TestCa>;
  readonly updateCa: TestCa;
}

export async function createTestPki(now: number): Promise<TestPki> {
  const tenants = new Map<string, Promise<TestCa>>();
  const updateCa = await createTestCa({ kind: 'update' }, now);
  const tenantCa = (tenantId: string): Promise<TestCa> => {
    let ca = tenants.get(tenantId);
    if (ca === undefined) {
      ca = createTestCa({ kind: 'tenant', tenantId }, now);
      tenants.set(tenantId, ca);
    }
    return ca;
  };
  return {
    tenantCa,
    updateCa,
    tenantIssuer: async (tenantId) => (await tenantCa(tenantId)).issuer,
    updateIssuer: () => Promise.resolve(updateCa.issuer),
    tenantAnchorPems: async (tenantId) => [toPem((await tenantCa(tenantId)).certificate.der)],
    tenantAnchors: async (tenantId) => (tenants.has(tenantId) ? [(await tenantCa(tenantId)).parsed] : []),
    updateAnchors: () => Promise.resolve([updateCa.parsed]),
  };
}

/** A TLS server certificate for a test device listener on localhost / 127.0.0.1, valid a day. */
export function issueListenerTestCertificate(now: number): TestCertificate {
  return issueTestCertificate({
    subject: '/CN=localhost',
    notBefore: now - 3_600_000,
    notAfter: now + 86_400_000,
    extensions: {
      basicConstraints: 'critical, CA:FALSE',
      keyUsage: 'critical, digitalSignature',
      extendedKeyUsage: 'serverAuth',
      subjectAltName: 'DNS:localhost, IP:127.0.0.1',
      subjectKeyIdentifier: 'none',
      authorityKeyIdentifier: 'none',
    },
  });
}
