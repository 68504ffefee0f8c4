import { CryptoError, encodeHex, parseCanonicalJson } from '@orbis/crypto';
import {
  IMAGE_FLAGS_NONE,
  IMAGE_FORMAT_VERSION,
  IMAGE_KEY_ID_BYTES,
  IMAGE_MAGIC,
  IMAGE_PREAMBLE_BYTES,
  IMAGE_SIGNATURE_ALGORITHMS,
  compileSchemaCheck,
  ImageHeader,
  MAX_ECDSA_P256_DER_SIGNATURE_BYTES,
  MAX_IMAGE_HEADER_BYTES,
  MAX_IMAGE_PACKAGE_BYTES,
  MAX_IMAGE_PAYLOAD_BYTES,
  MAX_IMAGE_SIGNATURES,
} from '@orbis/protocol';
import { ImageError } from '../errors.ts';

export interface ImageSignature {
  /** SHA-256 of the signer's canonical SPKI, lowercase hex. */
  readonly keyId: string;
  readonly algorithm: (typeof IMAGE_SIGNATURE_ALGORITHMS)[keyof typeof IMAGE_SIGNATURE_ALGORITHMS];
  /** DER-encoded ECDSA signature over `signedBytes`. */
  readonly signature: Uint8Array;
}

/** An image package whose structure is valid. Nothing in it is trusted until verifyImage. */
export interface ParsedImage {
  readonly formatVersion: typeof IMAGE_FORMAT_VERSION;
  readonly header: ImageHeader;
  readonly payload: Uint8Array;
  /** Preamble, header and payload: the bytes every signature covers. */
  readonly signedBytes: Uint8Array;
  readonly signatures: readonly ImageSignature[];
}

const headerSchema = compileSchemaCheck(ImageHeader);

/** A bounds-checked cursor: every read past the end is IMAGE_TRUNCATED. */
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
      throw new ImageError('IMAGE_TRUNCATED', `image package ends inside the ${what}`);
    }
  }

  u8(what: string): number {
    this.#need(1, what);
    const value = this.#view.getUint8(this.offset);
    this.offset += 1;
    return value;
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

function readPreamble(reader: Reader): { headerLength: number; payloadLength: number } {
  const magic = reader.bytes(IMAGE_MAGIC.length, 'magic');
  if (!IMAGE_MAGIC.every((byte, index) => magic[index] === byte)) {
    throw new ImageError('IMAGE_MAGIC_INVALID', 'not an Orbis image package');
  }
  const version = reader.u16('format version');
  if (version !== IMAGE_FORMAT_VERSION) {
    throw new ImageError('IMAGE_FORMAT_VERSION_UNSUPPORTED', `format version ${version} is not supported`);
  }
  if (reader.u16('flags') !== IMAGE_FLAGS_NONE) {
    throw new ImageError('IMAGE_FLAGS_UNSUPPORTED', 'reserved flag bits are set');
  }
  const headerLength = reader.u32('header length');
  const payloadLength = reader.u32('payload length');
  if (headerLength === 0) throw new ImageError('IMAGE_HEADER_INVALID', 'the header is empty');
  if (headerLength > MAX_IMAGE_HEADER_BYTES) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `a ${headerLength}-byte header; at most ${MAX_IMAGE_HEADER_BYTES} allowed`,
    );
  }
  if (payloadLength === 0) throw new ImageError('IMAGE_PAYLOAD_EMPTY', 'the payload is empty');
  if (payloadLength > MAX_IMAGE_PAYLOAD_BYTES) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `a ${payloadLength}-byte payload; at most ${MAX_IMAGE_PAYLOAD_BYTES} allowed`,
    );
  }
  return { headerLength, payloadLength };
}

function readHeader(bytes: Uint8Array): ImageHeader {
  let value: unknown;
  try {
    value = parseCanonicalJson(bytes);
  } catch (cause) {
    const code =
      cause instanceof CryptoError && cause.code === 'CRYPTO_CANONICAL_JSON_INVALID'
        ? 'IMAGE_HEADER_NONCANONICAL'
        : 'IMAGE_HEADER_INVALID';
    throw new ImageError(code, 'image header is not canonical JSON', { cause });
  }
  if (!headerSchema.check(value)) {
    throw new ImageError('IMAGE_HEADER_INVALID', `image header ${headerSchema.describe(value)}`);
  }
  return value;
}

function readSignatures(reader: Reader): ImageSignature[] {
  const count = reader.u8('signature count');
  if (count === 0 || count > MAX_IMAGE_SIGNATURES) {
    throw new ImageError(
      'IMAGE_SIGNATURE_COUNT_INVALID',
      `${count} signatures; 1..${MAX_IMAGE_SIGNATURES} allowed`,
    );
  }
  const signatures: ImageSignature[] = [];
  for (let index = 0; index < count; index += 1) {
    const keyId = encodeHex(reader.bytes(IMAGE_KEY_ID_BYTES, 'signature key ID'));
    const algorithm = reader.u8('signature algorithm');
    if (algorithm !== IMAGE_SIGNATURE_ALGORITHMS.ecdsaP256Sha256) {
      throw new ImageError('IMAGE_SIGNATURE_ALGORITHM_UNSUPPORTED', `signature algorithm ${algorithm}`);
    }
    const length = reader.u8('signature length');
    if (length > MAX_ECDSA_P256_DER_SIGNATURE_BYTES) {
      throw new ImageError('IMAGE_TOO_LARGE', `a ${length}-byte signature is longer than ECDSA P-256 allows`);
    }
    if (signatures.some((existing) => existing.keyId === keyId)) {
      throw new ImageError('IMAGE_SIGNATURE_DUPLICATE_KEY', `two signatures by key ${keyId}`);
    }
    signatures.push({ keyId, algorithm, signature: reader.bytes(length, 'signature') });
  }
  return signatures;
}

/**
 * Strict structural parse of an image package (docs/formats/image-package.md). Checks sizes
 * before reading, refuses unknown format versions, set reserved flags, non-canonical headers,
 * duplicate signers and trailing bytes. Verifies no signature: see verifyImage.
 */
export function parseImage(bytes: Uint8Array): ParsedImage {
  if (bytes.byteLength > MAX_IMAGE_PACKAGE_BYTES) {
    throw new ImageError('IMAGE_TOO_LARGE', `image package is larger than ${MAX_IMAGE_PACKAGE_BYTES} bytes`);
  }
  const reader = new Reader(bytes);
  const { headerLength, payloadLength } = readPreamble(reader);
  const header = readHeader(reader.bytes(headerLength, 'header'));
  const payload = reader.bytes(payloadLength, 'payload');
  const signedBytes = bytes.subarray(0, IMAGE_PREAMBLE_BYTES + headerLength + payloadLength);
  const signatures = readSignatures(reader);
  if (reader.remaining !== 0) {
    throw new ImageError('IMAGE_TRAILING_BYTES', `${reader.remaining} bytes after the last signature`);
  }
  return { formatVersion: IMAGE_FORMAT_VERSION, header, payload, signedBytes, signatures };
}
