import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

export type ImageErrorCode = ErrorCodeOf<'IMAGE'>;

/** Why an image package was refused. */
export class ImageError extends OrbisError<ImageErrorCode> {}
