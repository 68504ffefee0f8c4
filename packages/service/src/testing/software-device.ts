import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { ORBIS_EAT_PROFILE, type AttestationClaims, type BootLogEntry } from '@orbis/protocol';
import { signTestEvidence, testPublicJwk, testUeid } from '@orbis/testkit';

/**
 * Test-only: a device whose root of trust is a pair of software keys, booting a fixed set of
 * measured stages. It makes evidence exactly as the root of trust does; the device runtime
 * issue replaces it with the real root of trust.
 */
export interface SoftwareDevice {
  readonly deviceId: string;
  readonly identityKey: KeyObject;
  readonly identitySpki: Uint8Array;
  readonly certificateKey: KeyObject;
  bootLog: BootLogEntry[];
  bootcount: number;
  bootseed: string;
  /** Starts a new boot: the counter goes up and a fresh seed is drawn. */
  reboot(): void;
  claims(nonce: string, nowMs: number): AttestationClaims;
  evidence(nonce: string, nowMs: number, change?: (claims: AttestationClaims) => AttestationClaims): string;
}

function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export function createSoftwareDevice(bootLog: BootLogEntry[]): SoftwareDevice {
  const identityKey = newKey();
  const identitySpki = new Uint8Array(createPublicKey(identityKey).export({ format: 'der', type: 'spki' }));
  const deviceId = createHash('sha256').update(identitySpki).digest('hex');
  const device: SoftwareDevice = {
    deviceId,
    identityKey,
    identitySpki,
    certificateKey: newKey(),
    bootLog,
    bootcount: 1,
    bootseed: randomBytes(32).toString('base64url'),
    reboot() {
      device.bootcount += 1;
      device.bootseed = randomBytes(32).toString('base64url');
    },
    claims(nonce, nowMs) {
      return {
        eat_nonce: nonce,
        ueid: testUeid(deviceId),
        eat_profile: ORBIS_EAT_PROFILE,
        iat: Math.floor(nowMs / 1000),
        bootcount: device.bootcount,
        bootseed: device.bootseed,
        dbgstat: 3,
        orbis_boot_log: device.bootLog,
        orbis_counters: { antiRollback: {}, capabilityEpoch: 0 },
        orbis_capabilities: [],
        cnf: { jwk: testPublicJwk(device.certificateKey) },
      };
    },
    evidence(nonce, nowMs, change = (claims) => claims) {
      return signTestEvidence(change(device.claims(nonce, nowMs)), identityKey);
    },
  };
  return device;
}
