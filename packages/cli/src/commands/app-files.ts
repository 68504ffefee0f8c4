import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_MANIFEST_FILE_NAME, MAX_APP_MANIFEST_BYTES, type AppManifest } from '@orbis/protocol';
import { AppError, validateAppManifest } from '@orbis/verify';
import { CliError } from '../errors.ts';

/** Reads a file of at most `maxBytes`, refusing a larger one before reading it. */
export async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      // One byte more than the size (or the limit) shows a file that grew while it was read.
      const buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
      let length = 0;
      for (let read = -1; read !== 0 && length < buffer.byteLength; length += read) {
        ({ bytesRead: read } = await handle.read(buffer, length, buffer.byteLength - length, length));
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}`, { cause });
  }
  if (bytes.byteLength > maxBytes) {
    throw new CliError('CLI_FILE_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`);
  }
  return bytes;
}

/**
 * The app's app_manifest.json, checked by validateAppManifest: a bad manifest is refused with the
 * APP_MANIFEST_* code the device's installer would give it, before anything is built or signed.
 */
export async function loadAppManifest(dir: string): Promise<AppManifest> {
  const path = join(dir, APP_MANIFEST_FILE_NAME);
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(path, MAX_APP_MANIFEST_BYTES);
  } catch (error) {
    if (error instanceof CliError && error.code === 'CLI_FILE_TOO_LARGE') {
      throw new AppError('APP_MANIFEST_TOO_LARGE', `${path} is larger than ${MAX_APP_MANIFEST_BYTES} bytes`);
    }
    throw error;
  }
  return validateAppManifest(bytes);
}
