import type { PublicKey } from '@orbis/crypto';
import { DEBUG_STATUS, type AttestationClaims, type BootLogEntry, type ErrorCodeOf } from '@orbis/protocol';
import { checkDeviceCapability } from './device-capability.ts';

/**
 * Appraisal (RFC 9334: the verifier applies its appraisal policy to verified evidence): given
 * claims whose signature, nonce and cnf were already checked, the device's record and the
 * reference values, decide trusted, development, outdated or untrusted. Pure: every input is
 * passed in, so the service's database reads happen before and its writes after.
 */

export type AppraisalCode = ErrorCodeOf<'APPRAISAL'>;

/** A boot stage as the platform operator registered it in an OS release. */
export interface ReferenceMeasurement {
  readonly kind: 'bootloader' | 'security-monitor' | 'os';
  readonly componentId: string;
  readonly version: string;
  readonly securityVersion: number;
  readonly signer: string;
}

/** An app image of a tenant, as uploaded. */
export interface ReferenceAppImage {
  readonly tenantId: string;
  readonly componentId: string;
  readonly version: string;
  readonly securityVersion: number;
  readonly signer: string;
}

export interface DeviceRecord {
  readonly deviceId: string;
  /** The claiming tenant; undefined while unclaimed. */
  readonly tenantId: string | undefined;
  readonly disabled: boolean;
  readonly quarantined: boolean;
  readonly lastBootcount: number | undefined;
  readonly lastBootseed: string | undefined;
  /** The device's capability epoch as the service last saw it. */
  readonly capabilityEpoch: number;
}

export interface AppraisalPolicy {
  /** Reference values by image SHA-256: boot stages of registered OS releases. */
  readonly osMeasurement: (sha256: string) => ReferenceMeasurement | undefined;
  /** Reference values by image SHA-256: app images. */
  readonly appImage: (sha256: string) => ReferenceAppImage | undefined;
  /** The minimum OS security version for the device's group; below it (after grace) → outdated. */
  readonly minimumOsSecurityVersion: number;
  /** True while the group's grace period for a newly raised minimum lasts. */
  readonly inGracePeriod: boolean;
  /** The highest OS security version released on the device's feed (current vs superseded). */
  readonly latestOsSecurityVersion: number;
  /** The capability key written into devices at manufacture. */
  readonly capabilityKey: PublicKey;
  /** Seconds since the epoch. */
  readonly now: number;
}

export type AppraisalOutcome = 'trusted' | 'development' | 'outdated' | 'untrusted';

export interface AppraisalFinding {
  readonly code: AppraisalCode;
  readonly detail: string;
}

export interface AppraisalResult {
  readonly outcome: AppraisalOutcome;
  /** Why: empty for trusted; for untrusted, every problem found (each a security event). */
  readonly findings: readonly AppraisalFinding[];
  readonly osStatus: 'current' | 'superseded';
  readonly osSecurityVersion: number;
  readonly holdsAppDevelopment: boolean;
}

function matches(entry: BootLogEntry, reference: ReferenceMeasurement | ReferenceAppImage): boolean {
  return (
    entry.componentId === reference.componentId &&
    entry.version === reference.version &&
    entry.securityVersion === reference.securityVersion &&
    entry.signer === reference.signer
  );
}

function checkDeviceState(device: DeviceRecord, claims: AttestationClaims): AppraisalFinding[] {
  const findings: AppraisalFinding[] = [];
  if (device.tenantId === undefined)
    findings.push({ code: 'APPRAISAL_DEVICE_UNCLAIMED', detail: 'no tenant has claimed it' });
  if (device.disabled) findings.push({ code: 'APPRAISAL_DEVICE_DISABLED', detail: 'the tenant disabled it' });
  if (device.quarantined)
    findings.push({ code: 'APPRAISAL_DEVICE_QUARANTINED', detail: 'quarantined by an alert' });
  if (device.lastBootcount !== undefined) {
    if (claims.bootcount < device.lastBootcount) {
      findings.push({
        code: 'APPRAISAL_BOOTCOUNT_REGRESSED',
        detail: `bootcount ${claims.bootcount} after ${device.lastBootcount}: a clone or a reset root of trust`,
      });
    } else if (claims.bootcount === device.lastBootcount && claims.bootseed !== device.lastBootseed) {
      findings.push({
        code: 'APPRAISAL_CLONE_DETECTED',
        detail: `bootcount ${claims.bootcount} seen with two boot seeds`,
      });
    }
  }
  return findings;
}

/** Decides the outcome; see ARCHITECTURE.md "Attestation", step 3 and 4. */
export function appraiseEvidence(
  claims: AttestationClaims,
  device: DeviceRecord,
  policy: AppraisalPolicy,
): AppraisalResult {
  const findings = checkDeviceState(device, claims);
  const { tenantId } = device;
  const holdsAppDevelopment =
    tenantId !== undefined &&
    claims.orbis_capabilities.some(
      (signed) =>
        signed.capability.capability === 'appDevelopment' &&
        checkDeviceCapability(signed, policy.capabilityKey, {
          deviceId: device.deviceId,
          tenantId,
          now: policy.now,
          epoch: device.capabilityEpoch,
        }) !== undefined,
    );
  if (claims.dbgstat === DEBUG_STATUS.enabled && !holdsAppDevelopment) {
    findings.push({
      code: 'APPRAISAL_DEBUG_UNAUTHORIZED',
      detail: 'debugging is enabled without appDevelopment',
    });
  }
  // Every boot stage must be a registered OS-release measurement; every app an image of the
  // device's own tenant, unless the device is in development mode (debug-signed apps).
  const os = claims.orbis_boot_log.filter((entry) => entry.kind === 'os');
  if (os.length !== 1)
    findings.push({ code: 'APPRAISAL_MEASUREMENT_UNKNOWN', detail: `${os.length} OS entries` });
  for (const entry of claims.orbis_boot_log) {
    if (entry.kind === 'app') {
      const image = policy.appImage(entry.sha256);
      const known = image !== undefined && image.tenantId === device.tenantId && matches(entry, image);
      if (!known && !holdsAppDevelopment) {
        findings.push({ code: 'APPRAISAL_APP_UNKNOWN', detail: `app ${entry.componentId} ${entry.sha256}` });
      }
    } else {
      const reference = policy.osMeasurement(entry.sha256);
      if (reference?.kind !== entry.kind || !matches(entry, reference)) {
        findings.push({
          code: 'APPRAISAL_MEASUREMENT_UNKNOWN',
          detail: `${entry.kind} ${entry.version} ${entry.sha256}`,
        });
      }
    }
  }
  const osSecurityVersion = os[0]?.securityVersion ?? 0;
  const osStatus = osSecurityVersion >= policy.latestOsSecurityVersion ? 'current' : 'superseded';
  const base = { osStatus, osSecurityVersion, holdsAppDevelopment } as const;
  if (findings.length > 0) return { outcome: 'untrusted', findings, ...base };
  if (osSecurityVersion < policy.minimumOsSecurityVersion && !policy.inGracePeriod) {
    const detail = `OS security version ${osSecurityVersion} is below the minimum ${policy.minimumOsSecurityVersion}`;
    return { outcome: 'outdated', findings: [{ code: 'APPRAISAL_OS_OUTDATED', detail }], ...base };
  }
  return { outcome: holdsAppDevelopment ? 'development' : 'trusted', findings: [], ...base };
}
