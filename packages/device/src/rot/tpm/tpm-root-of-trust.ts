import { randomBytes, type KeyObject } from 'node:crypto';
import {
  canonicalJsonBytes,
  decodeBase64Url,
  encodeBase64Url,
  sha256,
  type PublicKey,
  type Signer,
} from '@orbis/crypto';
import type { BootLogEntry, DeviceEvidence } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import type { DirectoryLock } from '../directory-lock.ts';
import type {
  BootIdentity,
  CounterName,
  EvidenceOptions,
  ManufacturingState,
  RootOfTrust,
  SealingPolicy,
} from '../root-of-trust.ts';
import { assertCounterMayMoveTo } from '../emulated/counters.ts';
import { BOOTSEED_BYTES, MAX_RANDOM_BYTES } from '../emulated/emulated-root-of-trust.ts';
import { certificateKeyOf, generateP256Key, type CertificateKey } from '../emulated/key-files.ts';
import { measureEntry, startBootSession, type BootSession } from '../emulated/measurement.ts';
import { isComponentId, MAX_ANTI_ROLLBACK_FLOORS, MAX_COUNTER_VALUE } from '../emulated/state-file.ts';
import type { TpmConnection } from './tpm2-tools.ts';
import type { TpmCounterIndices } from './tpm-counters.ts';
import { TpmDeviceCounters } from './tpm-device-counters.ts';
import { createTpmEvidence } from './tpm-evidence.ts';
import { createTpmIdentitySigner } from './tpm-identity.ts';
import type { TpmRotPaths } from './tpm-layout.ts';
import { extendMeasurementPcr } from './tpm-measurement.ts';
import { withScratch } from './tpm-objects.ts';
import { startMeasuredBoot, tpmRandom } from './tpm-platform.ts';
import { sealInTpm, unsealInTpm, unwrapCertificateKey, wrapCertificateKey } from './tpm-sealing.ts';
import { withTpmDeviceSecret, type TpmHmac } from './tpm-secret.ts';
import type { TpmRotState } from './tpm-state.ts';
import type { TpmStateStore } from './tpm-state-store.ts';

/** The TPM backend: a RootOfTrust whose identity key's TPM public area can go in the manufacturer's list. */
export type TpmRootOfTrust = RootOfTrust & {
  readonly backend: 'tpm';
  /** The identity key's TPM2B_PUBLIC (`identity.pub`), attributes included: a copy. */
  readonly tpmPublic: Uint8Array;
};

export interface TpmRootOfTrustParts {
  readonly paths: TpmRotPaths;
  readonly tpm: TpmConnection;
  /** The device directory's lock, held until close(). */
  readonly lock: DirectoryLock;
  readonly identityKey: PublicKey;
  readonly tpmPublic: Uint8Array;
  readonly counters: TpmCounterIndices;
  /** The state file, already written under the counter's current generation. */
  readonly store: TpmStateStore;
}

function notBooted(reason: string): RootOfTrustError {
  return new RootOfTrustError('ROT_NOT_BOOTED', reason);
}

/**
 * The TPM 2.0 root of trust. As the emulated one, state changes run one at a time in call order
 * and are durable before their promise resolves; here every TPM command is serialized too,
 * since without a resource manager one command's flush would unload another's objects. The
 * state file and its rollback counter are tpm-state-store.ts.
 */
class TpmBackedRootOfTrust implements TpmRootOfTrust {
  readonly backend = 'tpm';
  readonly deviceId: string;
  readonly identityKey: PublicKey;
  readonly #paths: TpmRotPaths;
  readonly #tpm: TpmConnection;
  readonly #lock: DirectoryLock;
  readonly #counters: TpmDeviceCounters;
  readonly #tpmPublic: Uint8Array;
  readonly #identity: Signer;
  readonly #store: TpmStateStore;
  #certificate: CertificateKey | undefined;
  #session: BootSession | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(parts: TpmRootOfTrustParts) {
    this.#paths = parts.paths;
    this.#tpm = parts.tpm;
    this.#lock = parts.lock;
    this.#counters = new TpmDeviceCounters(
      parts.paths.directory,
      parts.tpm,
      parts.counters,
      parts.store.state.counterBases,
    );
    this.#tpmPublic = Uint8Array.from(parts.tpmPublic);
    this.#store = parts.store;
    this.identityKey = parts.identityKey;
    this.deviceId = parts.identityKey.keyId;
    this.#identity = createTpmIdentitySigner(parts.paths.directory, parts.tpm, parts.identityKey);
  }

  get tpmPublic(): Uint8Array {
    return Uint8Array.from(this.#tpmPublic);
  }

  async manufacturingState(): Promise<ManufacturingState> {
    return this.#exclusive(() => Promise.resolve(this.#state.manufacturingState));
  }

  async completeManufacturing(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#state.manufacturingState === 'DeviceComplete') {
        throw new RootOfTrustError('ROT_MANUFACTURING_STATE_FINAL', 'manufacturing is already complete');
      }
      await this.#commit({ ...this.#state, manufacturingState: 'DeviceComplete' });
    });
  }

  async beginBoot(): Promise<BootIdentity> {
    return this.#exclusive(async () => {
      this.#assertManufactured();
      if ((await this.#counters.read('bootcount')) >= MAX_COUNTER_VALUE) {
        throw new RangeError('bootcount is at its maximum');
      }
      // The old boot ends now: nothing may attest with its log once the PCR is reset.
      this.#session = undefined;
      const { bootcount, tpmSeed } = await this.#inScratch(async (scratch) => {
        await startMeasuredBoot(this.#tpm, scratch);
        const count = await this.#counters.countBoot(scratch);
        return { bootcount: count, tpmSeed: await tpmRandom(this.#tpm, BOOTSEED_BYTES, scratch) };
      });
      // Both generators go into the seed, so it is unpredictable if either one is.
      const seed = sha256(new Uint8Array(Buffer.concat([randomBytes(BOOTSEED_BYTES), tpmSeed])));
      const boot = Object.freeze({ bootcount, bootseed: encodeBase64Url(seed) });
      this.#session = startBootSession(boot);
      return boot;
    });
  }

  currentBoot(): BootIdentity {
    return this.#requireSession().boot;
  }

  async measure(entry: BootLogEntry): Promise<void> {
    return this.#exclusive(async () => {
      const next = measureEntry(this.#requireSession(), entry);
      // The digest of the entry as measureEntry copied and logged it, as replayBootLog computes it.
      const digest = sha256(canonicalJsonBytes(next.log.at(-1)));
      try {
        await this.#inScratch((scratch) => extendMeasurementPcr(this.#tpm, digest, scratch));
      } catch (error) {
        // The PCR may or may not have moved, so this boot's log no longer names it: the boot is over.
        this.#session = undefined;
        throw error;
      }
      this.#session = next;
    });
  }

  bootLog(): readonly BootLogEntry[] {
    return this.#requireSession().log;
  }

  measurementRegister(): Uint8Array {
    return Uint8Array.from(this.#requireSession().register);
  }

  async counter(name: CounterName): Promise<number> {
    return this.#exclusive(() => this.#counters.read(name));
  }

  async advanceCounter(name: CounterName, to: number): Promise<void> {
    return this.#exclusive(() => this.#counters.advance(name, to));
  }

  async antiRollbackFloors(): Promise<Readonly<Record<string, number>>> {
    return this.#exclusive(() => Promise.resolve(Object.freeze({ ...this.#state.antiRollback })));
  }

  async raiseAntiRollbackFloor(componentId: string, securityVersion: number): Promise<void> {
    return this.#exclusive(async () => {
      if (!isComponentId(componentId)) throw new RangeError('a component ID is a lowercase UUID');
      const floors = this.#state.antiRollback;
      const current = Object.hasOwn(floors, componentId) ? floors[componentId] : undefined;
      assertCounterMayMoveTo(`the floor of ${componentId}`, current ?? 0, securityVersion);
      if (current === securityVersion) return;
      if (current === undefined && Object.keys(floors).length >= MAX_ANTI_ROLLBACK_FLOORS) {
        throw new RangeError(`at most ${MAX_ANTI_ROLLBACK_FLOORS} anti-rollback floors`);
      }
      await this.#commit({ ...this.#state, antiRollback: { ...floors, [componentId]: securityVersion } });
    });
  }

  async debugStatus(): Promise<number> {
    return this.#exclusive(() => Promise.resolve(this.#state.debugStatus));
  }

  async rotateCertificateKey(): Promise<PublicKey> {
    return this.#exclusive(async () => (await this.#rotateCertificateKey()).publicKey);
  }

  async certificateTlsKey(): Promise<KeyObject> {
    return this.#exclusive(async () => (await this.#currentCertificateKey()).privateKey);
  }

  async createEvidence(nonce: string, options: EvidenceOptions): Promise<DeviceEvidence> {
    return this.#exclusive(async () => {
      this.#assertManufactured();
      const session = this.#requireSession();
      if (session.log.length === 0) throw notBooted('nothing has been measured in this boot');
      const certificate = await this.#currentCertificateKey();
      return createTpmEvidence({
        directory: this.#paths.directory,
        tpm: this.#tpm,
        identity: this.#identity,
        register: session.register,
        nonce,
        nowMs: options.nowMs,
        identityKey: this.identityKey,
        boot: session.boot,
        bootLog: session.log,
        debugStatus: this.#state.debugStatus,
        antiRollback: this.#state.antiRollback,
        capabilityEpoch: await this.#counters.read('capabilityEpoch'),
        capabilities: options.capabilities,
        certificateKey: certificate.publicKey,
      });
    });
  }

  async seal(data: Uint8Array, policy: SealingPolicy): Promise<Uint8Array> {
    return this.#exclusive(() => this.#withSecret((hmac) => sealInTpm(hmac, data, policy)));
  }

  async unseal(sealed: Uint8Array, policy: SealingPolicy): Promise<Uint8Array> {
    return this.#exclusive(() => this.#withSecret((hmac) => unsealInTpm(hmac, sealed, policy)));
  }

  /**
   * From node:crypto, not the TPM: the interface is synchronous and TPM2_GetRandom is a command
   * round trip (tens of ms through tpm2-tools). Boot seeds do mix in the TPM's generator.
   */
  random(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw new RangeError(`random() gives 0 to ${MAX_RANDOM_BYTES} bytes`);
    }
    return new Uint8Array(randomBytes(length));
  }

  async notBefore(): Promise<number> {
    return this.#exclusive(() => Promise.resolve(this.#state.notBeforeMs));
  }

  async advanceNotBefore(timeMs: number): Promise<void> {
    return this.#exclusive(async () => {
      if (!Number.isSafeInteger(timeMs) || timeMs < 0)
        throw new RangeError('a time is whole milliseconds ≥ 0');
      // An older time is not an error: signed times arrive out of order, and the floor only rises.
      if (timeMs > this.#state.notBeforeMs) await this.#commit({ ...this.#state, notBeforeMs: timeMs });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Operations already called finish (and are durable) before the lock goes.
    await this.#queue;
    this.#session = undefined;
    this.#certificate = undefined;
    await this.#lock.release();
  }

  /** Runs `operation` after every operation called before it: state changes and TPM commands never interleave. */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const run = this.#queue.then(operation);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #inScratch<T>(work: (scratch: string) => Promise<T>): Promise<T> {
    return withScratch(this.#paths.directory, work);
  }

  #withSecret<T>(work: (hmac: TpmHmac) => Promise<T>): Promise<T> {
    return withTpmDeviceSecret(this.#paths.directory, this.#tpm, work);
  }

  get #state(): TpmRotState {
    return this.#store.state;
  }

  #commit(next: TpmRotState): Promise<void> {
    return this.#store.commit(next);
  }

  async #rotateCertificateKey(): Promise<CertificateKey> {
    const privateKey = generateP256Key();
    const wrapped = await this.#withSecret((hmac) => wrapCertificateKey(hmac, privateKey));
    await this.#commit({ ...this.#state, certificateKey: encodeBase64Url(wrapped) });
    this.#certificate = certificateKeyOf(privateKey);
    return this.#certificate;
  }

  async #currentCertificateKey(): Promise<CertificateKey> {
    if (this.#certificate !== undefined) return this.#certificate;
    const wrapped = this.#state.certificateKey;
    if (wrapped === null) return this.#rotateCertificateKey();
    const privateKey = await this.#withSecret((hmac) => unwrapCertificateKey(hmac, decodeBase64Url(wrapped)));
    this.#certificate = certificateKeyOf(privateKey);
    return this.#certificate;
  }

  #requireSession(): BootSession {
    if (this.#session === undefined) throw notBooted('no boot has begun');
    return this.#session;
  }

  #assertManufactured(): void {
    if (this.#state.manufacturingState === 'Blank') {
      throw new RootOfTrustError(
        'ROT_NOT_MANUFACTURED',
        'the device is Blank: manufacturing is not complete',
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new RootOfTrustError(
        'ROT_DIRECTORY_LOCKED',
        'this root of trust is closed and holds no directory',
      );
    }
  }
}

/** The root of trust over checked parts, holding `lock` until close(). */
export function createTpmRootOfTrust(parts: TpmRootOfTrustParts): TpmRootOfTrust {
  return new TpmBackedRootOfTrust(parts);
}
