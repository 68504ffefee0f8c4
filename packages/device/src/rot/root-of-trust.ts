import type { KeyObject } from 'node:crypto';
import type { PublicKey, Signer } from '@orbis/crypto';
import type { BootLogEntry, DeviceEvidence, SignedDeviceCapability } from '@orbis/protocol';

/**
 * The device's root of trust (ARCHITECTURE.md, "Identities and keys" and "What the root of
 * trust can and cannot promise"), playing the part of Azure Sphere's Pluton. Keys are handles:
 * nothing here returns private key bytes, except the certificate key's TLS form, which Node's
 * TLS needs in process (the TPM backend seals it; the threat model says what that means).
 *
 * Two backends implement it: the emulated one (rot/emulated/, state in the device directory)
 * and TPM 2.0 (rot/tpm/). Everything above this interface is the same for both.
 */
export interface RootOfTrust {
  readonly backend: 'emulated' | 'tpm';
  /** SHA-256 of the identity key's canonical SPKI, 64 lowercase hex characters. */
  readonly deviceId: string;
  /** The identity key's public half, as the manufacturer's list registers it. */
  readonly identityKey: PublicKey;

  /** Manufacturing state: Blank until manufacture completes, then DeviceComplete for good. */
  manufacturingState(): Promise<ManufacturingState>;
  /** Blank → DeviceComplete. Refuses to go back (ROT_MANUFACTURING_STATE_FINAL). */
  completeManufacturing(): Promise<void>;

  /** Starts a boot: bootcount goes up by one and a fresh 32-byte boot seed is drawn. */
  beginBoot(): Promise<BootIdentity>;
  /** The boot in progress (ROT_NOT_BOOTED before beginBoot). */
  currentBoot(): BootIdentity;

  /** Extends the measurement register with a verified component and appends it to the boot log. */
  measure(entry: BootLogEntry): Promise<void>;
  /** The boot log of the boot in progress, in measurement order. */
  bootLog(): readonly BootLogEntry[];
  /** SHA-256 chain over the boot log: 32 zero bytes extended by SHA-256 of each entry's canonical JSON. */
  measurementRegister(): Uint8Array;

  /** A monotonic counter: it only goes up (ROT_COUNTER_BACKWARDS otherwise). */
  counter(name: CounterName): Promise<number>;
  advanceCounter(name: CounterName, to: number): Promise<void>;
  /** Anti-rollback floors by component ID (the `orbis_counters.antiRollback` claim). */
  antiRollbackFloors(): Promise<Readonly<Record<string, number>>>;
  /** Raises a component's anti-rollback floor; never lowers it. */
  raiseAntiRollbackFloor(componentId: string, securityVersion: number): Promise<void>;

  /** `dbgstat` (RFC 9711): the emulated backend reports what manufacture set. */
  debugStatus(): Promise<number>;

  /**
   * A fresh certificate key for the next certificate: generated inside the root of trust, never
   * supplied by a caller. createEvidence puts its public half in `cnf`.
   */
  rotateCertificateKey(): Promise<PublicKey>;
  /** The current certificate key's private half for Node's TLS (emulated: in process; TPM: unsealed). */
  certificateTlsKey(): Promise<KeyObject>;

  /**
   * Composes and signs the evidence for `nonce` itself (EAT JWT, ES256, typ eat+jwt) with the
   * identity key: ueid, eat_profile, iat (from `nowMs`), bootcount, bootseed, dbgstat, the boot
   * log, counters, the capabilities given, and `cnf` = the current certificate key. The TPM
   * backend adds a quote of the measurement PCR bound to the nonce, `cnf` and the claims.
   */
  createEvidence(nonce: string, options: EvidenceOptions): Promise<DeviceEvidence>;

  /**
   * Sealing, DICE-style: the key derives from the unique device secret, the boot chain's
   * signing authority (key ID of the OS-release key that signed the running OS) and a
   * security-version floor. Code at floor N can unseal what was sealed at any floor ≤ N.
   */
  seal(data: Uint8Array, policy: SealingPolicy): Promise<Uint8Array>;
  unseal(sealed: Uint8Array, policy: SealingPolicy): Promise<Uint8Array>;

  /** Random bytes from the root of trust's source. */
  random(length: number): Uint8Array;

  /** A not-before time (ms) that only moves forward, advanced by the service's signed time. */
  notBefore(): Promise<number>;
  advanceNotBefore(timeMs: number): Promise<void>;

  /** Releases files and handles (the TPM connection, the directory lock). */
  close(): Promise<void>;
}

export type ManufacturingState = 'Blank' | 'DeviceComplete';
export type CounterName = 'bootcount' | 'capabilityEpoch';

export interface BootIdentity {
  readonly bootcount: number;
  /** base64url of 32 random bytes. */
  readonly bootseed: string;
}

export interface EvidenceOptions {
  readonly nowMs: number;
  readonly capabilities: readonly SignedDeviceCapability[];
}

export interface SealingPolicy {
  /** Key ID (SHA-256 of SPKI, hex) of the authority that signed the running boot chain. */
  readonly signingAuthority: string;
  readonly securityVersionFloor: number;
}

/** What manufacture writes into a device besides its keys (ARCHITECTURE.md, Identities and keys). */
export interface DeviceTrustAnchors {
  /** PEM of the platform root: the only CA the device trusts for the service's TLS. */
  readonly platformRootPem: string;
  /** Canonical SPKI (base64url) of the OS-release signing keys that boot stages must be signed by. */
  readonly osReleaseKeys: readonly string[];
  /** Canonical SPKI (base64url) of the capability key. */
  readonly capabilityKey: string;
  /**
   * The image repository's TUF root.json, as text: where the device's update client starts
   * (written to tuf/image-repository/root.json as well).
   */
  readonly imageRepositoryRoot: string;
  /** The director's TUF root.json, as text (also tuf/director/root.json). */
  readonly directorRoot: string;
}

/** The identity key as a Signer handle: what the manufacturer's list and evidence signing use. */
export type IdentitySigner = Signer;
