import type { ErrorCodeOf } from '@orbis/protocol';

export type CryptoErrorCode = ErrorCodeOf<'CRYPTO'>;

/** The one error class of packages/crypto; callers branch on `code`, never on the message. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}
