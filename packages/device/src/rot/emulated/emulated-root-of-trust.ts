import { randomBytes, type KeyObject } from 'node:crypto';
import { createSoftwareSigner, encodeBase64Url, type PublicKey, type Signer } from '@orbis/crypto';
import type { BootLogEntry, DeviceEvidence } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import { writeFileAtomically } from '../atomic-file.ts';
import type { DirectoryLock } from '../directory-lock.ts';
import type {
  BootIdentity,
  CounterName,
  EvidenceOptions,
  ManufacturingState,
  RootOfTrust,
  SealingPolicy,
} from '../root-of-trust.ts';
import { assertCounterMayMoveTo, readCounter } from './counters.ts';
import { composeClaims, signEvidence } from './evidence.ts';
import { certificateKeyOf, encodePkcs8, generateP256Key, type CertificateKey } from './key-files.ts';
import type { RotPaths } from './layout.ts';
import { measureEntry, startBootSession, type BootSession } from './measurement.ts';
import type { RotMaterial } from './rot-files.ts';
import { sealWithSecret, SEALING_IV_BYTES, unsealWithSecret } from './sealing.ts';
import {
  deriveStateMacKey,
  encodeStateFile,
  isComponentId,
  MAX_ANTI_ROLLBACK_FLOORS,
  MAX_COUNTER_VALUE,
  type EmulatedRotState,
} from './state-file.ts';

/** A boot seed's size, in bytes (RFC 9711 section 4.3.4; the evidence schema's `bootseed`). */
export const BOOTSEED_BYTES = 32;
/** Most bytes one call to random() returns. */
export const MAX_RANDOM_BYTES = 64 * 1024;

export interface EmulatedRootOfTrustParts {
  readonly paths: RotPaths;
  readonly material: RotMaterial;
  /** The device directory's lock, held until close(). */
  readonly lock: DirectoryLock;
}

function notBooted(reason: string): RootOfTrustError {
  return new RootOfTrustError('ROT_NOT_BOOTED', reason);
}

/**
 * The emulated root of trust: the RootOfTrust interface over files in `<dir>/rot/`. Every state
 * change is written durably before its promise resolves, and state changes run one at a time
 * in call order, so no interleaving of calls can lose an update or move a counter back.
 */
class EmulatedRootOfTrust implements RootOfTrust {
  readonly backend = 'emulated';
  readonly deviceId: string;
  readonly identityKey: PublicKey;
  readonly #paths: RotPaths;
  readonly #lock: DirectoryLock;
  readonly #uds: Uint8Array;
  readonly #stateMacKey: Uint8Array;
  readonly #identity: Signer;
  #certificate: CertificateKey | undefined;
  #state: EmulatedRotState;
  #session: BootSession | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor({ paths, material, lock }: EmulatedRootOfTrustParts) {
    this.#paths = paths;
    this.#lock = lock;
    this.#uds = Uint8Array.from(material.uds);
    this.#stateMacKey = deriveStateMacKey(this.#uds);
    this.#identity = createSoftwareSigner(material.identityKey);
    this.#certificate = material.certificateKey && certificateKeyOf(material.certificateKey);
    this.#state = material.state;
    this.identityKey = this.#identity.publicKey;
    this.deviceId = this.identityKey.keyId;
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
      if (this.#state.bootcount >= MAX_COUNTER_VALUE) throw new RangeError('bootcount is at its maximum');
      // The old boot ends now: nothing may attest with its log while the new count is written.
      this.#session = undefined;
      const bootcount = this.#state.bootcount + 1;
      await this.#commit({ ...this.#state, bootcount });
      const boot = Object.freeze({ bootcount, bootseed: encodeBase64Url(randomBytes(BOOTSEED_BYTES)) });
      this.#session = startBootSession(boot);
      return boot;
    });
  }

  currentBoot(): BootIdentity {
    return this.#requireSession().boot;
  }

  async measure(entry: BootLogEntry): Promise<void> {
    return this.#exclusive(() => {
      this.#session = measureEntry(this.#requireSession(), entry);
      return Promise.resolve();
    });
  }

  bootLog(): readonly BootLogEntry[] {
    return this.#requireSession().log;
  }

  measurementRegister(): Uint8Array {
    return Uint8Array.from(this.#requireSession().register);
  }

  async counter(name: CounterName): Promise<number> {
    return this.#exclusive(() => Promise.resolve(readCounter(this.#state, name)));
  }

  async advanceCounter(name: CounterName, to: number): Promise<void> {
    return this.#exclusive(async () => {
      const current = readCounter(this.#state, name);
      assertCounterMayMoveTo(name, current, to);
      if (to !== current) await this.#commit({ ...this.#state, [name]: to });
    });
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
      const antiRollback = { ...floors, [componentId]: securityVersion };
      await this.#commit({ ...this.#state, antiRollback });
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
      const claims = composeClaims({
        nonce,
        nowMs: options.nowMs,
        identityKey: this.identityKey,
        boot: session.boot,
        bootLog: session.log,
        debugStatus: this.#state.debugStatus,
        antiRollback: this.#state.antiRollback,
        capabilityEpoch: this.#state.capabilityEpoch,
        capabilities: options.capabilities,
        certificateKey: certificate.publicKey,
      });
      return { evidence: await signEvidence(this.#identity, claims) };
    });
  }

  async seal(data: Uint8Array, policy: SealingPolicy): Promise<Uint8Array> {
    this.#assertOpen();
    return Promise.resolve(sealWithSecret(this.#uds, data, policy, randomBytes(SEALING_IV_BYTES)));
  }

  async unseal(sealed: Uint8Array, policy: SealingPolicy): Promise<Uint8Array> {
    this.#assertOpen();
    return Promise.resolve(unsealWithSecret(this.#uds, sealed, policy));
  }

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
    this.#uds.fill(0);
    this.#stateMacKey.fill(0);
    this.#session = undefined;
    await this.#lock.release();
  }

  /** Runs `operation` after every operation called before it, so state changes never interleave. */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const run = this.#queue.then(operation);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Writes `next` durably, and only then makes it the state: a failed write changes nothing. */
  async #commit(next: EmulatedRotState): Promise<void> {
    const frozen = Object.freeze({ ...next, antiRollback: Object.freeze({ ...next.antiRollback }) });
    await writeFileAtomically(this.#paths.state, encodeStateFile(frozen, this.#stateMacKey));
    this.#state = frozen;
  }

  async #rotateCertificateKey(): Promise<CertificateKey> {
    const privateKey = generateP256Key();
    await writeFileAtomically(this.#paths.certificateKey, encodePkcs8(privateKey));
    this.#certificate = certificateKeyOf(privateKey);
    return this.#certificate;
  }

  async #currentCertificateKey(): Promise<CertificateKey> {
    return this.#certificate ?? this.#rotateCertificateKey();
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

/** A RootOfTrust over checked material, holding `lock` until close(). */
export function createEmulatedRootOfTrust(parts: EmulatedRootOfTrustParts): RootOfTrust {
  return new EmulatedRootOfTrust(parts);
}
