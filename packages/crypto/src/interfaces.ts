/**
 * Where time and randomness enter the trusted core. Callers pass these in; the core never
 * reads `Date.now()` or a random source itself, so every decision can be replayed in a test.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Random {
  /** `length` bytes from a cryptographically secure source. */
  bytes(length: number): Uint8Array;
}
