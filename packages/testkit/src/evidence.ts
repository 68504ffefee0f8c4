import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { ORBIS_EAT_PROFILE, type AttestationClaims } from '@orbis/protocol';
import { sampleAppHeader, sampleOsHeader } from './samples.ts';

/**
 * Attestation evidence for tests, made with node:crypto alone so it does not depend on the
 * code under test: a device's identity key and certificate key, sample claims, and compact
 * JWS signing of any header and payload (including ones a real root of trust never makes).
 */

export interface TestDeviceKeys {
  /** The root of trust's identity key (private). */
  readonly identityKey: KeyObject;
  /** SHA-256 of the identity key's SPKI, lowercase hex. */
  readonly deviceId: string;
  /** The key the device asks to have certified (private). */
  readonly certificateKey: KeyObject;
}

function newP256Key(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/** The device ID of a P-256 key: SHA-256 of its (uncompressed, named-curve) SPKI, in hex. */
export function testDeviceId(key: KeyObject): string {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('hex');
}

export function createTestDeviceKeys(): TestDeviceKeys {
  const identityKey = newP256Key();
  return { identityKey, deviceId: testDeviceId(identityKey), certificateKey: newP256Key() };
}

/** `ueid`: base64url of 0x01 ‖ the 32-byte device ID. */
export function testUeid(deviceId: string): string {
  return Buffer.concat([Uint8Array.of(1), Buffer.from(deviceId, 'hex')]).toString('base64url');
}

/** The public JWK of a P-256 key, exactly kty, crv, x and y. */
export function testPublicJwk(key: KeyObject): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  const { x, y } = createPublicKey(key).export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: String(x), y: String(y) };
}

export interface SampleClaimsOptions {
  readonly deviceId: string;
  readonly nonce: string;
  readonly certificateKey: KeyObject;
  /** Seconds since the Unix epoch. */
  readonly iat: number;
}

/** Valid claims for a device running the sample OS and app. */
export function sampleAttestationClaims(options: SampleClaimsOptions): AttestationClaims {
  const entry = (header: typeof sampleOsHeader | typeof sampleAppHeader, kind: 'os' | 'app') => ({
    kind,
    componentId: header.componentId,
    version: header.version,
    securityVersion: header.securityVersion,
    sha256: createHash('sha256').update(header.name).digest('hex'),
    signer: createHash('sha256').update(`${kind} signer`).digest('hex'),
  });
  return {
    eat_nonce: options.nonce,
    ueid: testUeid(options.deviceId),
    eat_profile: ORBIS_EAT_PROFILE,
    iat: options.iat,
    bootcount: 7,
    bootseed: createHash('sha256').update('boot 7').digest('base64url'),
    dbgstat: 3,
    orbis_boot_log: [entry(sampleOsHeader, 'os'), entry(sampleAppHeader, 'app')],
    orbis_counters: {
      antiRollback: { [sampleOsHeader.componentId]: sampleOsHeader.securityVersion },
      capabilityEpoch: 0,
    },
    orbis_capabilities: [],
    cnf: { jwk: testPublicJwk(options.certificateKey) },
  };
}

/** Unpadded base64url of UTF-8 text or bytes. */
export function base64UrlOf(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs two ready-made segments with ES256 (IEEE P1363) and returns the compact JWS. */
export function signJwsSegments(headerSegment: string, payloadSegment: string, key: KeyObject): string {
  const signature = sign('sha256', Buffer.from(`${headerSegment}.${payloadSegment}`), {
    key,
    dsaEncoding: 'ieee-p1363',
  });
  return `${headerSegment}.${payloadSegment}.${signature.toString('base64url')}`;
}

/** Evidence as a root of trust makes it: the JSON of `claims`, ES256, typ eat+jwt. */
export function signTestEvidence(
  claims: unknown,
  identityKey: KeyObject,
  header: unknown = { alg: 'ES256', typ: 'eat+jwt' },
): string {
  return signJwsSegments(
    base64UrlOf(JSON.stringify(header)),
    base64UrlOf(JSON.stringify(claims)),
    identityKey,
  );
}
