import { randomBytes } from 'node:crypto';

/** Structurally the Random of @orbis/crypto, which testkit does not depend on. */
export interface TestRandom {
  bytes(length: number): Uint8Array;
}

/** node:crypto's CSPRNG: what the service injects. */
export const cryptoRandom: TestRandom = Object.freeze({
  bytes: (length: number) => new Uint8Array(randomBytes(length)),
});

/** Every draw returns `length` copies of `byte`: the edge cases of serial numbers. */
export function constantRandom(byte: number): TestRandom {
  return { bytes: (length: number) => new Uint8Array(length).fill(byte) };
}

/** A broken source that returns one byte fewer than asked for. */
export const shortRandom: TestRandom = Object.freeze({
  bytes: (length: number) => new Uint8Array(Math.max(0, length - 1)),
});
