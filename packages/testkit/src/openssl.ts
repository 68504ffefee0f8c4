import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Outside checks: what the `openssl` command-line tool (Debian's openssl package) makes of
 * Orbis's bytes, so tests do not only agree with themselves.
 */

function withFiles<T>(files: Record<string, Uint8Array>, run: (path: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'orbis-openssl-'));
  try {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    return run((name) => join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `openssl dgst -sha256 -verify` accepts a DER ECDSA signature over `data`. */
export function opensslVerifies(spki: Uint8Array, data: Uint8Array, derSignature: Uint8Array): boolean {
  return withFiles({ 'key.der': spki, data, 'sig.der': derSignature }, (path) => {
    const args = [
      'dgst',
      '-sha256',
      '-keyform',
      'DER',
      '-verify',
      path('key.der'),
      '-signature',
      path('sig.der'),
    ];
    try {
      const output = execFileSync('openssl', [...args, path('data')], { stdio: ['ignore', 'pipe', 'pipe'] });
      return output.toString().trim() === 'Verified OK';
    } catch {
      return false;
    }
  });
}

/** Runs `openssl` with `input` on standard input and returns standard output. */
export function openssl(args: readonly string[], input: string | Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'ignore'] }));
}
