import { canonicalJsonBytes, decodeBase64Url, encodeBase64Url, isDeviceId, sha256 } from '@orbis/crypto';
import { RootOfTrustError } from '../../errors.ts';
import type { CounterName, ManufacturingState } from '../root-of-trust.ts';
import {
  isComponentId,
  isCounterValue,
  isDebugStatus,
  MAX_ANTI_ROLLBACK_FLOORS,
} from '../emulated/state-file.ts';
import { stateMacInput } from './tpm-secret.ts';

/**
 * The TPM backend's state file (`rot/state.json`): what is not a counter in the TPM. Two
 * things protect it, both anchored in the TPM:
 * - a MAC by the TPM's device secret (tpm-secret.ts), so a file edited by hand, or made for
 *   another device, is refused;
 * - the generation it was written under, the value of a TPM NV counter (tpm-counters.ts), so
 *   an older copy put back is refused: see tpm-root-of-trust.ts for the write order.
 *
 *   {"mac": base64url, "state": {format, generation, deviceId, manufacturingState, debugStatus,
 *    antiRollback, notBeforeMs, certificateKey, counterBases}}
 *
 * The MAC is HMAC(secret, label ‖ SHA-256(canonical JSON of `state`)), computed by the TPM.
 * This module only encodes and parses; the caller asks the TPM for the MAC and compares it.
 */
export interface TpmRotState {
  readonly deviceId: string;
  readonly manufacturingState: ManufacturingState;
  readonly debugStatus: number;
  /** Anti-rollback floors by component ID. */
  readonly antiRollback: Readonly<Record<string, number>>;
  readonly notBeforeMs: number;
  /** The certificate key's PKCS#8, encrypted by a key the TPM derives (base64url); null before the first. */
  readonly certificateKey: string | null;
  /** Each NV counter's value at manufacture: a counter reads as its TPM value minus its base. */
  readonly counterBases: Readonly<Record<CounterName, number>>;
}

export interface TpmStateFile {
  readonly state: TpmRotState;
  /** The state-generation counter's value this file was written under. */
  readonly generation: number;
  readonly mac: Uint8Array;
}

export const TPM_STATE_FORMAT = 1;
/** Largest wrapped certificate key, in base64url characters (P-256 PKCS#8 sealed is about 230). */
const MAX_WRAPPED_KEY_CHARACTERS = 1024;
const FILE_MEMBERS = ['mac', 'state'].join();
const STATE_MEMBERS = [
  'antiRollback',
  'certificateKey',
  'counterBases',
  'debugStatus',
  'deviceId',
  'format',
  'generation',
  'manufacturingState',
  'notBeforeMs',
].join();
const BASE_MEMBERS = ['bootcount', 'capabilityEpoch'].join();
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function stateBody(state: TpmRotState, generation: number): Record<string, unknown> {
  return { format: TPM_STATE_FORMAT, generation, ...state };
}

/** What the TPM MACs for `state` written under `generation`. */
export function tpmStateMacInput(state: TpmRotState, generation: number): Uint8Array {
  return stateMacInput(sha256(canonicalJsonBytes(stateBody(state, generation))));
}

export function encodeTpmStateFile(state: TpmRotState, generation: number, mac: Uint8Array): Uint8Array {
  return canonicalJsonBytes({ mac: encodeBase64Url(mac), state: stateBody(state, generation) });
}

function invalid(reason: string, cause?: unknown): RootOfTrustError {
  return new RootOfTrustError('ROT_STATE_INVALID', `root-of-trust state file: ${reason}`, { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactMembers(record: Record<string, unknown>, members: string): boolean {
  return Object.keys(record).sort().join() === members;
}

function isWhole(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function parseJsonRecord(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch (cause) {
    throw invalid('not UTF-8 JSON', cause);
  }
  if (!isRecord(value)) throw invalid('not a JSON object');
  return value;
}

function parseFloors(value: unknown): Record<string, number> {
  if (!isRecord(value)) throw invalid('antiRollback is not an object');
  const entries = Object.entries(value);
  if (entries.length > MAX_ANTI_ROLLBACK_FLOORS) throw invalid('too many anti-rollback floors');
  for (const [componentId, floor] of entries) {
    if (!isComponentId(componentId) || !isCounterValue(floor))
      throw invalid(`floor ${componentId} is invalid`);
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

function parseBases(value: unknown): Record<CounterName, number> {
  if (!isRecord(value) || !hasExactMembers(value, BASE_MEMBERS)) throw invalid('counterBases is invalid');
  const { bootcount, capabilityEpoch } = value;
  if (!isWhole(bootcount) || !isWhole(capabilityEpoch)) throw invalid('a counter base is invalid');
  return { bootcount, capabilityEpoch };
}

function parseWrappedKey(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_WRAPPED_KEY_CHARACTERS || !BASE64URL.test(value)) {
    throw invalid('certificateKey is not base64url');
  }
  return value;
}

function parseState(body: Record<string, unknown>): { state: TpmRotState; generation: number } {
  if (!hasExactMembers(body, STATE_MEMBERS)) throw invalid('unexpected or missing members');
  const { format, generation, deviceId, manufacturingState, debugStatus, notBeforeMs } = body;
  if (format !== TPM_STATE_FORMAT) throw invalid(`format is not ${TPM_STATE_FORMAT}`);
  if (!isWhole(generation)) throw invalid('generation is invalid');
  if (!isDeviceId(deviceId)) throw invalid('deviceId is not 64 lowercase hex characters');
  if (manufacturingState !== 'Blank' && manufacturingState !== 'DeviceComplete') {
    throw invalid('manufacturingState is not Blank or DeviceComplete');
  }
  if (!isDebugStatus(debugStatus)) throw invalid('debugStatus is not a dbgstat value');
  if (!isWhole(notBeforeMs)) throw invalid('notBeforeMs is invalid');
  const state: TpmRotState = {
    deviceId,
    manufacturingState,
    debugStatus,
    antiRollback: parseFloors(body['antiRollback']),
    notBeforeMs,
    certificateKey: parseWrappedKey(body['certificateKey']),
    counterBases: parseBases(body['counterBases']),
  };
  return { state, generation };
}

/**
 * Strict: the state file as encodeTpmStateFile writes it, else ROT_STATE_INVALID. Its MAC is
 * returned unchecked: checking it takes the TPM (tpmStateMacInput).
 */
export function parseTpmStateFile(bytes: Uint8Array): TpmStateFile {
  const file = parseJsonRecord(bytes);
  if (!hasExactMembers(file, FILE_MEMBERS) || typeof file['mac'] !== 'string' || !isRecord(file['state'])) {
    throw invalid('not {mac, state}');
  }
  let mac: Uint8Array;
  try {
    mac = decodeBase64Url(file['mac']);
  } catch (cause) {
    throw invalid('the MAC is not base64url', cause);
  }
  return { ...parseState(file['state']), mac };
}
