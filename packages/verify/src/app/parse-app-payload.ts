import { CryptoError, parseCanonicalJson } from '@orbis/crypto';
import {
  APP_FILE_PATH_PATTERN,
  APP_PAYLOAD_FORMAT_VERSION,
  APP_PAYLOAD_MAGIC,
  MAX_APP_FILE_PATH_CHARS,
  MAX_APP_MANIFEST_BYTES,
  MAX_APP_PAYLOAD_FILES,
  MAX_IMAGE_PAYLOAD_BYTES,
  type AppImageHeader,
  type AppManifest,
} from '@orbis/protocol';
import { AppError } from '../errors.ts';
import { validateAppManifest } from './validate-app-manifest.ts';

/** An app payload whose structure and manifest are valid. Trusted only as far as its image is. */
export interface ParsedAppPayload {
  readonly formatVersion: typeof APP_PAYLOAD_FORMAT_VERSION;
  readonly manifest: AppManifest;
  /** The bundle's files by path, in ascending path order. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The bytes of the file at `manifest.EntryPoint`: the script the sandbox evaluates. */
  readonly entryPoint: Uint8Array;
}

const pathPattern = new RegExp(APP_FILE_PATH_PATTERN);

/** A bounds-checked cursor: every read past the end is APP_PAYLOAD_TRUNCATED. */
class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(length: number, what: string): void {
    if (this.offset + length > this.#bytes.byteLength) {
      throw new AppError('APP_PAYLOAD_TRUNCATED', `app payload ends inside the ${what}`);
    }
  }

  u16(what: string): number {
    this.#need(2, what);
    const value = this.#view.getUint16(this.offset);
    this.offset += 2;
    return value;
  }

  u32(what: string): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(length: number, what: string): Uint8Array {
    this.#need(length, what);
    const value = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  get remaining(): number {
    return this.#bytes.byteLength - this.offset;
  }
}

function readPreamble(reader: Reader): { fileCount: number; manifestLength: number } {
  const magic = reader.bytes(APP_PAYLOAD_MAGIC.length, 'magic');
  if (!APP_PAYLOAD_MAGIC.every((byte, index) => magic[index] === byte)) {
    throw new AppError('APP_PAYLOAD_MAGIC_INVALID', 'not an Orbis app payload');
  }
  const version = reader.u16('format version');
  if (version !== APP_PAYLOAD_FORMAT_VERSION) {
    throw new AppError(
      'APP_PAYLOAD_VERSION_UNSUPPORTED',
      `app payload format version ${version} is not supported`,
    );
  }
  const fileCount = reader.u16('file count');
  if (fileCount === 0 || fileCount > MAX_APP_PAYLOAD_FILES) {
    throw new AppError(
      'APP_PAYLOAD_FILE_COUNT_INVALID',
      `${fileCount} files; 1..${MAX_APP_PAYLOAD_FILES} allowed`,
    );
  }
  const manifestLength = reader.u32('manifest length');
  if (manifestLength > MAX_APP_MANIFEST_BYTES) {
    throw new AppError(
      'APP_PAYLOAD_TOO_LARGE',
      `a ${manifestLength}-byte manifest; at most ${MAX_APP_MANIFEST_BYTES} allowed`,
    );
  }
  return { fileCount, manifestLength };
}

function readManifest(bytes: Uint8Array): AppManifest {
  let value: unknown;
  try {
    value = parseCanonicalJson(bytes);
  } catch (cause) {
    if (cause instanceof CryptoError && cause.code === 'CRYPTO_CANONICAL_JSON_INVALID') {
      throw new AppError('APP_PAYLOAD_MANIFEST_NONCANONICAL', 'the manifest is not canonical JSON', {
        cause,
      });
    }
    throw new AppError('APP_MANIFEST_NOT_JSON', 'the manifest is not UTF-8 JSON', { cause });
  }
  return validateAppManifest(value);
}

function readFiles(reader: Reader, count: number): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let previous = '';
  for (let index = 0; index < count; index += 1) {
    const pathLength = reader.u16('file path length');
    if (pathLength === 0 || pathLength > MAX_APP_FILE_PATH_CHARS) {
      throw new AppError(
        'APP_PAYLOAD_PATH_INVALID',
        `file ${index}: a ${pathLength}-byte path; 1..${MAX_APP_FILE_PATH_CHARS} allowed`,
      );
    }
    // Paths are ASCII by their pattern, so one byte is one character and byte order is string order.
    const path = String.fromCharCode(...reader.bytes(pathLength, 'file path'));
    if (!pathPattern.test(path)) {
      throw new AppError(
        'APP_PAYLOAD_PATH_INVALID',
        `file ${index}: ${JSON.stringify(path)} is not a relative path of the bundle`,
      );
    }
    if (path <= previous) {
      throw new AppError(
        'APP_PAYLOAD_FILE_ORDER_INVALID',
        `file ${index}: ${path} does not come after ${previous}`,
      );
    }
    previous = path;
    files.set(path, reader.bytes(reader.u32('file size'), `file ${path}`));
  }
  return files;
}

/**
 * Strict parse of the payload of an app's image package (docs/formats/app-package.md): sizes are
 * checked before they are read, the manifest must be canonical JSON and pass validateAppManifest,
 * files come in strictly ascending path order (so no path appears twice), the entry point must
 * be one of them, and nothing may follow the last file. Call it on the payload of an image that
 * verifyImage accepted, then assertManifestMatchesHeader.
 */
export function parseAppPayload(bytes: Uint8Array): ParsedAppPayload {
  if (bytes.byteLength > MAX_IMAGE_PAYLOAD_BYTES) {
    throw new AppError(
      'APP_PAYLOAD_TOO_LARGE',
      `app payload is larger than ${MAX_IMAGE_PAYLOAD_BYTES} bytes`,
    );
  }
  const reader = new Reader(bytes);
  const { fileCount, manifestLength } = readPreamble(reader);
  const manifest = readManifest(reader.bytes(manifestLength, 'manifest'));
  const files = readFiles(reader, fileCount);
  if (reader.remaining !== 0) {
    throw new AppError('APP_PAYLOAD_TRAILING_BYTES', `${reader.remaining} bytes after the last file`);
  }
  const entryPoint = files.get(manifest.EntryPoint);
  if (entryPoint === undefined) {
    throw new AppError(
      'APP_PAYLOAD_ENTRY_POINT_MISSING',
      `no file at the entry point ${manifest.EntryPoint}`,
    );
  }
  return { formatVersion: APP_PAYLOAD_FORMAT_VERSION, manifest, files, entryPoint };
}

/**
 * The signed header says which component an image is of, and the installer keys peripheral
 * ownership, storage and anti-rollback by it: the manifest inside must name the same component.
 */
export function assertManifestMatchesHeader(manifest: AppManifest, header: AppImageHeader): void {
  if (manifest.ComponentId !== header.componentId) {
    throw new AppError(
      'APP_PAYLOAD_COMPONENT_MISMATCH',
      `the image header is of component ${header.componentId}, its manifest names ${manifest.ComponentId}`,
    );
  }
}
