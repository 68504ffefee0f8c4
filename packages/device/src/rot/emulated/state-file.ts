import { createHmac, hkdfSync } from 'node:crypto';
import {
  canonicalJsonBytes,
  constantTimeEqual,
  decodeBase64Url,
  encodeBase64Url,
  isDeviceId,
} from '@orbis/crypto';
import { DEBUG_STATUS, MAX_BOOT_LOG_ENTRIES, UUID_PATTERN } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import type { ManufacturingState } from '../root-of-trust.ts';

/**
 * The emulated root of trust's mutable state, one JSON file rewritten atomically on every
 * change. It carries an HMAC under a key derived from the UDS, so a file damaged or edited by
 * hand (a lowered bootcount, say) is refused as ROT_STATE_INVALID. It cannot stop anyone who
 * can read the UDS, nor a whole older copy of the file put back: that is the documented limit
 * of a root of trust whose keys are files.
 */
export interface EmulatedRotState {
  readonly deviceId: string;
  readonly manufacturingState: ManufacturingState;
  readonly debugStatus: number;
  readonly bootcount: number;
  readonly capabilityEpoch: number;
  /** Anti-rollback floors by component ID. */
  readonly antiRollback: Readonly<Record<string, number>>;
  readonly notBeforeMs: number;
}

export const STATE_FORMAT_VERSION = 1;
/** Largest state file read back, in bytes (64 floors at about 60 bytes each, and room). */
export const MAX_STATE_FILE_BYTES = 16 * 1024;
/** Counters and security versions are unsigned 32-bit, as the evidence schema says. */
export const MAX_COUNTER_VALUE = 0xffff_ffff;
/** Most anti-rollback floors: one per component a boot log can hold. */
export const MAX_ANTI_ROLLBACK_FLOORS = MAX_BOOT_LOG_ENTRIES;

const MAC_KEY_INFO = 'orbis emulated rot state mac v1';
const MAC_BYTES = 32;
const FILE_MEMBERS = ['mac', 'state'].join();
const STATE_MEMBERS = [
  'antiRollback',
  'bootcount',
  'capabilityEpoch',
  'debugStatus',
  'deviceId',
  'manufacturingState',
  'notBeforeMs',
  'version',
].join();
const COMPONENT_ID = new RegExp(UUID_PATTERN);

/** Never throws. */
export function isCounterValue(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_COUNTER_VALUE;
}

/** Never throws: a `dbgstat` value RFC 9711 defines. */
export function isDebugStatus(value: unknown): value is number {
  return (
    Number.isInteger(value) &&
    (value as number) >= DEBUG_STATUS.enabled &&
    (value as number) <= DEBUG_STATUS.disabledFullyAndPermanently
  );
}

/** Never throws. */
export function isComponentId(value: string): boolean {
  return COMPONENT_ID.test(value);
}

/** The state file's MAC key: HKDF-SHA256 of the UDS, separated from sealing keys by its info. */
export function deriveStateMacKey(uds: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', uds, new Uint8Array(0), MAC_KEY_INFO, MAC_BYTES));
}

function macOf(macKey: Uint8Array, body: unknown): Uint8Array {
  return new Uint8Array(createHmac('sha256', macKey).update(canonicalJsonBytes(body)).digest());
}

export function encodeStateFile(state: EmulatedRotState, macKey: Uint8Array): Uint8Array {
  const body = { version: STATE_FORMAT_VERSION, ...state };
  return canonicalJsonBytes({ mac: encodeBase64Url(macOf(macKey, body)), state: body });
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

function checkMac(file: Record<string, unknown>, macKey: Uint8Array): Record<string, unknown> {
  if (!hasExactMembers(file, FILE_MEMBERS) || typeof file['mac'] !== 'string' || !isRecord(file['state'])) {
    throw invalid('not {mac, state}');
  }
  let expected: Uint8Array;
  let actual: Uint8Array;
  try {
    expected = macOf(macKey, file['state']);
    actual = decodeBase64Url(file['mac']);
  } catch (cause) {
    throw invalid('the MAC cannot be checked', cause);
  }
  if (!constantTimeEqual(expected, actual)) throw invalid('the MAC does not match: the file was altered');
  return file['state'];
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

function parseStateBody(body: Record<string, unknown>): EmulatedRotState {
  if (!hasExactMembers(body, STATE_MEMBERS)) throw invalid('unexpected or missing members');
  const { version, deviceId, manufacturingState, debugStatus, bootcount, capabilityEpoch, notBeforeMs } =
    body;
  if (version !== STATE_FORMAT_VERSION) throw invalid(`version is not ${STATE_FORMAT_VERSION}`);
  if (!isDeviceId(deviceId)) throw invalid('deviceId is not 64 lowercase hex characters');
  if (manufacturingState !== 'Blank' && manufacturingState !== 'DeviceComplete') {
    throw invalid('manufacturingState is not Blank or DeviceComplete');
  }
  if (!isDebugStatus(debugStatus)) throw invalid('debugStatus is not a dbgstat value');
  if (!isCounterValue(bootcount) || !isCounterValue(capabilityEpoch)) throw invalid('a counter is invalid');
  if (!Number.isSafeInteger(notBeforeMs) || (notBeforeMs as number) < 0)
    throw invalid('notBeforeMs is invalid');
  const antiRollback = parseFloors(body['antiRollback']);
  return {
    deviceId,
    manufacturingState,
    debugStatus,
    bootcount,
    capabilityEpoch,
    antiRollback,
    notBeforeMs: notBeforeMs as number,
  };
}

/** Strict: the state file as encodeStateFile writes it, with a MAC that matches, else ROT_STATE_INVALID. */
export function parseStateFile(bytes: Uint8Array, macKey: Uint8Array): EmulatedRotState {
  return parseStateBody(checkMac(parseJsonRecord(bytes), macKey));
}
