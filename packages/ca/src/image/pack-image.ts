import { canonicalJsonBytes, type Signer } from '@orbis/crypto';
import {
  IMAGE_FLAGS_NONE,
  IMAGE_FORMAT_VERSION,
  IMAGE_KEY_ID_BYTES,
  IMAGE_MAGIC,
  IMAGE_PREAMBLE_BYTES,
  IMAGE_SIGNATURE_ALGORITHMS,
  compileSchemaCheck,
  ImageHeader,
  MAX_IMAGE_PAYLOAD_BYTES,
  MAX_IMAGE_SIGNATURES,
} from '@orbis/protocol';
import { ImageError } from '@orbis/verify';

export interface PackImageOptions {
  readonly header: ImageHeader;
  readonly payload: Uint8Array;
  /** Each signs the preamble, header and payload; 1 to MAX_IMAGE_SIGNATURES distinct keys. */
  readonly signers: readonly Signer[];
}

const headerSchema = compileSchemaCheck(ImageHeader);

function checkInputs({ header, payload, signers }: PackImageOptions): void {
  if (!headerSchema.check(header)) {
    throw new ImageError('IMAGE_HEADER_INVALID', `image header ${headerSchema.describe(header)}`);
  }
  if (payload.byteLength === 0) throw new ImageError('IMAGE_PAYLOAD_EMPTY', 'the payload is empty');
  if (payload.byteLength > MAX_IMAGE_PAYLOAD_BYTES) {
    throw new ImageError('IMAGE_TOO_LARGE', `payload is larger than ${MAX_IMAGE_PAYLOAD_BYTES} bytes`);
  }
  if (signers.length === 0 || signers.length > MAX_IMAGE_SIGNATURES) {
    throw new ImageError('IMAGE_SIGNATURE_COUNT_INVALID', `1..${MAX_IMAGE_SIGNATURES} signers needed`);
  }
  if (new Set(signers.map((signer) => signer.publicKey.keyId)).size !== signers.length) {
    throw new ImageError('IMAGE_SIGNATURE_DUPLICATE_KEY', 'the same key is listed twice');
  }
}

/**
 * Builds and signs an image package (docs/formats/image-package.md). Used by the tooling
 * (`orbis app pack`, OS releases) and by the service when it signs tenants' uploads; the
 * parser and verifier it must satisfy live in packages/verify.
 */
export async function packImage(options: PackImageOptions): Promise<Uint8Array> {
  checkInputs(options);
  const { header, payload, signers } = options;
  // The schema bounds every field, so a valid header always fits MAX_IMAGE_HEADER_BYTES
  // (packages/protocol's tests check the largest one).
  const headerBytes = canonicalJsonBytes(header);

  const signed = new Uint8Array(IMAGE_PREAMBLE_BYTES + headerBytes.byteLength + payload.byteLength);
  const view = new DataView(signed.buffer);
  signed.set(IMAGE_MAGIC, 0);
  view.setUint16(4, IMAGE_FORMAT_VERSION);
  view.setUint16(6, IMAGE_FLAGS_NONE);
  view.setUint32(8, headerBytes.byteLength);
  view.setUint32(12, payload.byteLength);
  signed.set(headerBytes, IMAGE_PREAMBLE_BYTES);
  signed.set(payload, IMAGE_PREAMBLE_BYTES + headerBytes.byteLength);

  const signatures = await Promise.all(signers.map((signer) => signer.sign(signed, 'der')));
  const blocks = signatures.map((signature, index) => {
    const block = new Uint8Array(IMAGE_KEY_ID_BYTES + 2 + signature.byteLength);
    block.set(Buffer.from((signers[index] as Signer).publicKey.keyId, 'hex'), 0);
    block[IMAGE_KEY_ID_BYTES] = IMAGE_SIGNATURE_ALGORITHMS.ecdsaP256Sha256;
    block[IMAGE_KEY_ID_BYTES + 1] = signature.byteLength;
    block.set(signature, IMAGE_KEY_ID_BYTES + 2);
    return block;
  });
  const out = new Uint8Array(
    signed.byteLength + 1 + blocks.reduce((sum, block) => sum + block.byteLength, 0),
  );
  out.set(signed, 0);
  out[signed.byteLength] = signers.length;
  let offset = signed.byteLength + 1;
  for (const block of blocks) {
    out.set(block, offset);
    offset += block.byteLength;
  }
  return out;
}
