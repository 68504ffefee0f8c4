import { canonicalJsonBytes, sha256, SHA256_BYTES } from '@orbis/crypto';
import { BootLogEntry, compileSchemaCheck, MAX_BOOT_LOG_ENTRIES } from '@orbis/protocol';
import type { BootIdentity } from '../root-of-trust.ts';

/**
 * Measured boot for one boot: the log of verified components and the register that chains
 * them, as a TPM PCR does (extend = SHA-256(register ‖ SHA-256(canonical JSON of the entry))).
 * The register starts at 32 zero bytes each boot, so it names exactly this boot's log in order.
 */
export interface BootSession {
  readonly boot: BootIdentity;
  readonly log: readonly BootLogEntry[];
  readonly register: Uint8Array;
}

const entrySchema = compileSchemaCheck(BootLogEntry);

export function startBootSession(boot: BootIdentity): BootSession {
  return { boot, log: Object.freeze([]), register: new Uint8Array(SHA256_BYTES) };
}

/** register' = SHA-256(register ‖ SHA-256(RFC 8785 canonical JSON of `entry`)). */
export function extendMeasurement(register: Uint8Array, entry: BootLogEntry): Uint8Array {
  const digest = sha256(canonicalJsonBytes(entry));
  const input = new Uint8Array(register.byteLength + digest.byteLength);
  input.set(register, 0);
  input.set(digest, register.byteLength);
  return sha256(input);
}

/**
 * A frozen copy of the entry's own fields, read once: what is checked, extended and logged is
 * the same value, whatever the caller does with its object afterwards.
 */
function copyEntry(entry: BootLogEntry): BootLogEntry {
  const { kind, componentId, version, securityVersion, sha256: digest, signer } = entry;
  return Object.freeze({ kind, componentId, version, securityVersion, sha256: digest, signer });
}

/**
 * The session with `entry` measured. Throws RangeError for an entry the evidence schema would
 * refuse or a log already at MAX_BOOT_LOG_ENTRIES: the root of trust signs only what a verifier
 * can read.
 */
export function measureEntry(session: BootSession, entry: BootLogEntry): BootSession {
  const copy = copyEntry(entry);
  if (!entrySchema.check(copy)) throw new RangeError(`boot log entry ${entrySchema.describe(copy)}`);
  if (session.log.length >= MAX_BOOT_LOG_ENTRIES) {
    throw new RangeError(`a boot log holds at most ${MAX_BOOT_LOG_ENTRIES} entries`);
  }
  return {
    boot: session.boot,
    log: Object.freeze([...session.log, copy]),
    register: extendMeasurement(session.register, copy),
  };
}
