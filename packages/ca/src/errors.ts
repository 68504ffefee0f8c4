import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

export type CaErrorCode = ErrorCodeOf<'CA'>;

/** The error class of certificate issuance in packages/ca: why a certificate was not issued. */
export class CaError extends OrbisError<CaErrorCode> {}
