import { generateSoftwareSigner, type Signer } from '@orbis/crypto';

/**
 * An encoder written from docs/formats/image-package.md, independent of packImage, so tests can
 * build packages that packImage refuses to make (non-canonical headers, odd counts, bad fields)
 * and still sign them properly: the parser must refuse them for their structure alone.
 */
export interface RawSignature {
  readonly keyId: Uint8Array;
  readonly algorithm: number;
  readonly signature: Uint8Array;
}

export interface RawPackage {
  readonly version?: number;
  readonly flags?: number;
  readonly headerBytes: Uint8Array;
  readonly payload: Uint8Array;
  /** Overrides the declared lengths; by default the true ones. */
  readonly headerLength?: number;
  readonly payloadLength?: number;
}

export function encodeSignedPart(raw: RawPackage): Uint8Array {
  const preamble = Buffer.alloc(16);
  preamble.write('OIMG', 0, 'latin1');
  preamble.writeUInt16BE(raw.version ?? 1, 4);
  preamble.writeUInt16BE(raw.flags ?? 0, 6);
  preamble.writeUInt32BE(raw.headerLength ?? raw.headerBytes.byteLength, 8);
  preamble.writeUInt32BE(raw.payloadLength ?? raw.payload.byteLength, 12);
  return Buffer.concat([preamble, raw.headerBytes, raw.payload]);
}

export function encodeSignatures(signatures: readonly RawSignature[], count = signatures.length): Uint8Array {
  const blocks = signatures.map((entry) =>
    Buffer.concat([entry.keyId, Uint8Array.of(entry.algorithm, entry.signature.byteLength), entry.signature]),
  );
  return Buffer.concat([Uint8Array.of(count), ...blocks]);
}

/** Signs the signed part with each signer and appends the signature block. */
export async function encodePackage(raw: RawPackage, signers: readonly Signer[]): Promise<Uint8Array> {
  const signed = encodeSignedPart(raw);
  const signatures = await Promise.all(
    signers.map(async (signer) => ({
      keyId: Buffer.from(signer.publicKey.keyId, 'hex'),
      algorithm: 1,
      signature: await signer.sign(signed, 'der'),
    })),
  );
  return Buffer.concat([signed, encodeSignatures(signatures)]);
}

export { sampleAppHeader as sampleHeader } from '@orbis/testkit';

export function newSigner(): Signer {
  return generateSoftwareSigner().signer;
}
