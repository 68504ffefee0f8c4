import { canonicalJsonBytes } from '@orbis/crypto';
import {
  APP_FILE_PATH_PATTERN,
  APP_PAYLOAD_FORMAT_VERSION,
  APP_PAYLOAD_MAGIC,
  APP_PAYLOAD_PREAMBLE_BYTES,
  MAX_APP_FILE_PATH_CHARS,
  MAX_APP_PAYLOAD_FILES,
  MAX_IMAGE_PAYLOAD_BYTES,
} from '@orbis/protocol';
import { AppError, validateAppManifest } from '@orbis/verify';

export interface EncodeAppPayloadOptions {
  /** The manifest; checked with validateAppManifest and stored as RFC 8785 canonical JSON. */
  readonly manifest: unknown;
  /** The bundle's files by path; one of them is the manifest's EntryPoint. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

const pathPattern = new RegExp(APP_FILE_PATH_PATTERN);

/**
 * Builds the payload of an app's image package (docs/formats/app-package.md): the manifest and
 * the files, sorted by path. Refuses with the codes parseAppPayload would, so every payload it
 * writes parses; sign it with packImage.
 */
export function encodeAppPayload({ manifest, files }: EncodeAppPayloadOptions): Uint8Array {
  const checked = validateAppManifest(manifest);
  if (files.size === 0 || files.size > MAX_APP_PAYLOAD_FILES) {
    throw new AppError(
      'APP_PAYLOAD_FILE_COUNT_INVALID',
      `${files.size} files; 1..${MAX_APP_PAYLOAD_FILES} allowed`,
    );
  }
  for (const path of files.keys()) {
    if (path.length > MAX_APP_FILE_PATH_CHARS || !pathPattern.test(path)) {
      throw new AppError(
        'APP_PAYLOAD_PATH_INVALID',
        `${JSON.stringify(path.slice(0, 200))} is not a bundle path`,
      );
    }
  }
  if (!files.has(checked.EntryPoint)) {
    throw new AppError('APP_PAYLOAD_ENTRY_POINT_MISSING', `no file at the entry point ${checked.EntryPoint}`);
  }
  const manifestBytes = canonicalJsonBytes(checked);
  const paths = [...files.keys()].sort();
  const size =
    APP_PAYLOAD_PREAMBLE_BYTES +
    manifestBytes.byteLength +
    paths.reduce((sum, path) => sum + 2 + path.length + 4 + (files.get(path)?.byteLength ?? 0), 0);
  if (size > MAX_IMAGE_PAYLOAD_BYTES) {
    throw new AppError(
      'APP_PAYLOAD_TOO_LARGE',
      `a ${size}-byte app payload; at most ${MAX_IMAGE_PAYLOAD_BYTES} allowed`,
    );
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(APP_PAYLOAD_MAGIC, 0);
  view.setUint16(4, APP_PAYLOAD_FORMAT_VERSION);
  view.setUint16(6, paths.length);
  view.setUint32(8, manifestBytes.byteLength);
  out.set(manifestBytes, APP_PAYLOAD_PREAMBLE_BYTES);
  let offset = APP_PAYLOAD_PREAMBLE_BYTES + manifestBytes.byteLength;
  for (const path of paths) {
    const bytes = files.get(path) ?? new Uint8Array(0);
    view.setUint16(offset, path.length);
    // Paths are ASCII by their pattern: one character, one byte.
    for (let index = 0; index < path.length; index += 1) out[offset + 2 + index] = path.charCodeAt(index);
    offset += 2 + path.length;
    view.setUint32(offset, bytes.byteLength);
    out.set(bytes, offset + 4);
    offset += 4 + bytes.byteLength;
  }
  return out;
}
