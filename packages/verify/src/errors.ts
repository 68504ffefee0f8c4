import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

export type ImageErrorCode = ErrorCodeOf<'IMAGE'>;

/** Why an image package was refused. */
export class ImageError extends OrbisError<ImageErrorCode> {}

export type AttestationErrorCode = ErrorCodeOf<'ATTESTATION'>;

/** Why attestation evidence or an attestation nonce was refused. */
export class AttestationError extends OrbisError<AttestationErrorCode> {}

export type CertificateErrorCode = ErrorCodeOf<'CERT'>;

/** Why a certificate or a certificate chain was refused. */
export class CertificateError extends OrbisError<CertificateErrorCode> {}

export type AppErrorCode = ErrorCodeOf<'APP'>;

/** Why an app manifest or app payload was refused, or why an app may not be installed beside others. */
export class AppError extends OrbisError<AppErrorCode> {}
