#!/usr/bin/env node
import { CommanderError } from '@commander-js/extra-typings';
import { OrbisError } from '@orbis/protocol';
import { createProgram } from '../program.ts';
import { stdout } from '../output.ts';

const argv = process.argv.slice(2);
try {
  await createProgram(stdout).parseAsync(argv, { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has told people what is wrong (help and --version exit 0); scripts get a code too.
    if (error.exitCode !== 0 && argv.includes('--json')) {
      const message = error.message.replace(/^error: /, '');
      process.stdout.write(`${JSON.stringify({ error: { code: 'CLI_USAGE_INVALID', message } })}\n`);
    }
    process.exit(error.exitCode);
  }
  // Errors with a catalogued code (CliError, ImageError, CryptoError) are the user's to fix.
  const known: OrbisError | undefined = error instanceof OrbisError ? (error as OrbisError) : undefined;
  const code = known?.code ?? 'INTERNAL';
  const message = known?.message ?? 'unexpected failure (please report it)';
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`orbis: ${code}: ${message}\n`);
  if (known === undefined) console.error(error);
  process.exitCode = 1;
}
