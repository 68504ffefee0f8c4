import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

export type CryptoErrorCode = ErrorCodeOf<'CRYPTO'>;

/** The one error class of packages/crypto. */
export class CryptoError extends OrbisError<CryptoErrorCode> {}
