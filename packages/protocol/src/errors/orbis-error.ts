import type { ErrorCode } from './catalogue.ts';

/**
 * The base of every package's error class: a catalogued, stable `code` that callers branch on
 * (never the message), and the underlying `cause`. Each package declares its own subclass,
 * limited to its own area's codes: `class CryptoError extends OrbisError<CryptoErrorCode> {}`.
 */
export class OrbisError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
