import type { ErrorCodeOf } from '@orbis/protocol';

export type CliErrorCode = ErrorCodeOf<'CLI'>;

/** A problem with what the user asked the CLI to do; printed with its code, exit status 1. */
export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}
