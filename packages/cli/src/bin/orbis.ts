#!/usr/bin/env node
import { CommanderError } from '@commander-js/extra-typings';
import { createProgram } from '../program.ts';
import { stdout } from '../output.ts';

/** Errors that carry a stable `code` (CliError, ImageError, CryptoError) are the user's to fix. */
function codeOf(error: unknown): string | undefined {
  if (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    /^[A-Z_]+$/.test(error.code)
  ) {
    return error.code;
  }
  return undefined;
}

const argv = process.argv.slice(2);
try {
  await createProgram(stdout).parseAsync(argv, { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const code = codeOf(error) ?? 'INTERNAL';
  const message = code === 'INTERNAL' ? 'unexpected failure (please report it)' : (error as Error).message;
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`orbis: ${code}: ${message}\n`);
  if (code === 'INTERNAL') console.error(error);
  process.exitCode = 1;
}
