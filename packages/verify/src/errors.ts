import type { ErrorCodeOf } from '@orbis/protocol';

export type ImageErrorCode = ErrorCodeOf<'IMAGE'>;

/** Why an image package was refused; callers branch on `code`, never on the message. */
export class ImageError extends Error {
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
  }
}
