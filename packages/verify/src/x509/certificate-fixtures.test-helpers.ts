import assert from 'node:assert/strict';
import {
  createTestDeviceKeys,
  createTestTenantCa,
  issueTestDeviceCertificate,
  SAMPLE_OTHER_TENANT_ID,
  SAMPLE_TENANT_ID,
  type TestCertificate,
  type TestDeviceCertificateOptions,
} from '@orbis/testkit';
import { CertificateError } from '../errors.ts';

/** Certificates from openssl, at fixed times, shared by the x509 tests of one file. */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The tests' "now": device certificates run from NOW − 5 minutes to NOW + 24 hours. */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const TENANT_A = SAMPLE_TENANT_ID;
export const TENANT_B = SAMPLE_OTHER_TENANT_ID;

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export const tenantCaA = once(() => createTestTenantCa({ notBefore: NOW - 30 * DAY }));
export const tenantCaB = once(() => createTestTenantCa({ notBefore: NOW - 30 * DAY }));
export const deviceA = once(() => createTestDeviceKeys());

/** A device certificate for device A of tenant A, issued by tenant A's CA; options override. */
export function deviceCertificate(options: Partial<TestDeviceCertificateOptions> = {}): TestCertificate {
  return issueTestDeviceCertificate({
    ca: tenantCaA(),
    tenantId: TENANT_A,
    deviceId: deviceA().deviceId,
    notBefore: NOW - 5 * MINUTE,
    notAfter: NOW + DAY,
    ...options,
  });
}

export const leafA = once(() => deviceCertificate());

/** The code `run` throws a CertificateError with, or undefined if it returns. */
export function certificateCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CertificateError, `not a CertificateError: ${String(error)}`);
    return error.code;
  }
}
