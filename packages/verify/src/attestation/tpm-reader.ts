/**
 * A strict reader for the TPM's marshalled structures (TPM 2.0 Library, Part 2 "Structures"):
 * big-endian integers and TPM2B buffers (a UINT16 size, then that many bytes), every size
 * checked against the bytes left and a bound, and no bytes left over at the end.
 */

/**
 * A TPM structure that is not in the one form Orbis accepts. It carries no error code because
 * what a malformed structure means depends on who handed it over: the registry re-codes it as
 * REGISTRY_TPM_PUBLIC_INVALID, the quote check as ATTESTATION_TPM_QUOTE_MALFORMED.
 */
export class TpmStructureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TpmStructureError';
  }
}

/** A cursor over one structure; `what` names it in error messages. */
export class TpmReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  fail(reason: string): TpmStructureError {
    return new TpmStructureError(`${this.#what}: ${reason}`);
  }

  /** Moves past `length` bytes and returns where they start; refuses to run off the end. */
  #take(length: number, field: string): number {
    const start = this.#offset;
    if (start + length > this.#bytes.byteLength) throw this.fail(`${field} runs past the end`);
    this.#offset = start + length;
    return start;
  }

  u8(field: string): number {
    return this.#view.getUint8(this.#take(1, field));
  }

  u16(field: string): number {
    return this.#view.getUint16(this.#take(2, field));
  }

  u32(field: string): number {
    return this.#view.getUint32(this.#take(4, field));
  }

  u64(field: string): bigint {
    return this.#view.getBigUint64(this.#take(8, field));
  }

  /** A UINT16 that must be `expected` (an algorithm, a tag): anything else is refused by name. */
  expectU16(field: string, expected: number): void {
    const value = this.u16(field);
    if (value !== expected) {
      throw this.fail(`${field} is 0x${hex16(value)}, not 0x${hex16(expected)}`);
    }
  }

  /** `length` bytes, copied so that the result does not alias the caller's buffer. */
  bytes(length: number, field: string): Uint8Array {
    const start = this.#take(length, field);
    return this.#bytes.slice(start, start + length);
  }

  /** A TPM2B: a UINT16 size from `minBytes` to `maxBytes`, then that many bytes. */
  sized(field: string, maxBytes: number, minBytes = 0): Uint8Array {
    const size = this.u16(`${field} size`);
    if (size < minBytes || size > maxBytes) {
      throw this.fail(`${field} is ${size} bytes, not ${minBytes} to ${maxBytes}`);
    }
    return this.bytes(size, field);
  }

  /** A structure is read whole: trailing bytes would be a second reading of the same signature. */
  end(): void {
    if (this.#offset !== this.#bytes.byteLength) {
      throw this.fail(`${this.#bytes.byteLength - this.#offset} bytes after the end`);
    }
  }
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}
