import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

export type CliErrorCode = ErrorCodeOf<'CLI'>;

/** A problem with what the user asked the CLI to do; printed with its code, exit status 1. */
export class CliError extends OrbisError<CliErrorCode> {}
