import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packImage } from '@orbis/ca';
import { canonicalJsonBytes } from '@orbis/crypto';
import {
  isErrorCode,
  MAX_IMAGE_HEADER_BYTES,
  MAX_IMAGE_PACKAGE_BYTES,
  MAX_IMAGE_PAYLOAD_BYTES,
} from '@orbis/protocol';
import { ImageError } from '../errors.ts';
import {
  encodePackage,
  encodeSignatures,
  encodeSignedPart,
  newSigner,
  sampleHeader,
} from './image-fixtures.test-helpers.ts';
import { parseImage } from './parse-image.ts';
import { verifyImage } from './verify-image.ts';

const author = newSigner();
const payload = new TextEncoder().encode('console.log("blink");');
const headerBytes = canonicalJsonBytes(sampleHeader);
const image = await packImage({ header: sampleHeader, payload, signers: [author] });
const trusted = { trustedKeys: [author.publicKey] };

/** The code an image package is refused with, or undefined if it is accepted. */
function refusal(bytes: Uint8Array, options = trusted): string | undefined {
  try {
    verifyImage(bytes, options);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ImageError, `not an ImageError: ${String(error)}`);
    assert.ok(isErrorCode(error.code), error.code);
    return error.code;
  }
}

describe('verifyImage accepts what packImage makes', () => {
  it('returns the header, the payload and the signer', () => {
    const verified = verifyImage(image, trusted);
    assert.deepEqual(verified.header, sampleHeader);
    assert.deepEqual(verified.payload, payload);
    assert.deepEqual(verified.signerKeyIds, [author.publicKey.keyId]);
  });

  it('accepts several signers when each is trusted, and reports them in package order', async () => {
    const second = newSigner();
    const both = await packImage({ header: sampleHeader, payload, signers: [second, author] });
    const verified = verifyImage(both, { trustedKeys: [author.publicKey, second.publicKey] });
    assert.deepEqual(verified.signerKeyIds, [second.publicKey.keyId, author.publicKey.keyId]);
  });
});

describe('verifyImage refuses altered packages', () => {
  it('rejects a flipped byte anywhere in an image package with a stable error code', () => {
    const signedEnd = 16 + headerBytes.byteLength + payload.byteLength;
    for (let offset = 0; offset < image.byteLength; offset += 1) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const altered = Uint8Array.from(image);
        altered[offset] = (altered[offset] ?? 0) ^ mask;
        const code = refusal(altered);
        assert.ok(code !== undefined, `byte ${offset} ^ 0x${mask.toString(16)} was accepted`);
        if (offset >= 16 + headerBytes.byteLength && offset < signedEnd)
          assert.equal(code, 'IMAGE_SIGNATURE_INVALID');
        if (offset > signedEnd && offset <= signedEnd + 32) assert.equal(code, 'IMAGE_SIGNATURE_UNKNOWN_KEY');
      }
    }
  });

  it('rejects every truncation of a package', () => {
    for (let length = 0; length < image.byteLength; length += 1) {
      assert.equal(refusal(image.subarray(0, length)), 'IMAGE_TRUNCATED', `truncated to ${length} bytes`);
    }
  });

  it('rejects trailing garbage after the last signature', () => {
    assert.equal(refusal(Buffer.concat([image, Uint8Array.of(0)])), 'IMAGE_TRAILING_BYTES');
    assert.equal(refusal(Buffer.concat([image, image])), 'IMAGE_TRAILING_BYTES');
  });

  it('rejects a package larger than the format allows before reading it', () => {
    const huge = new Uint8Array(MAX_IMAGE_PACKAGE_BYTES + 1);
    huge.set(image);
    assert.equal(refusal(huge), 'IMAGE_TOO_LARGE');
  });

  it('rejects declared header and payload lengths over their limits before reading them', async () => {
    const oversizedHeader = await encodePackage(
      { headerBytes, payload, headerLength: MAX_IMAGE_HEADER_BYTES + 1 },
      [author],
    );
    assert.equal(refusal(oversizedHeader), 'IMAGE_TOO_LARGE');
    const oversizedPayload = await encodePackage(
      { headerBytes, payload, payloadLength: MAX_IMAGE_PAYLOAD_BYTES + 1 },
      [author],
    );
    assert.equal(refusal(oversizedPayload), 'IMAGE_TOO_LARGE');
  });

  it('rejects an empty header or an empty payload', async () => {
    assert.equal(
      refusal(await encodePackage({ headerBytes: new Uint8Array(0), payload }, [author])),
      'IMAGE_HEADER_INVALID',
    );
    assert.equal(
      refusal(await encodePackage({ headerBytes, payload: new Uint8Array(0) }, [author])),
      'IMAGE_PAYLOAD_EMPTY',
    );
  });

  it('rejects a signature longer than any ECDSA P-256 signature', () => {
    const signed = encodeSignedPart({ headerBytes, payload });
    const block = encodeSignatures([
      { keyId: Buffer.from(author.publicKey.keyId, 'hex'), algorithm: 1, signature: new Uint8Array(73) },
    ]);
    assert.equal(refusal(Buffer.concat([signed, block])), 'IMAGE_TOO_LARGE');
  });
});

describe('verifyImage refuses what it cannot read', () => {
  it('rejects other magic', () => {
    const altered = Uint8Array.from(image);
    altered.set(new TextEncoder().encode('OIMH'), 0);
    assert.equal(refusal(altered), 'IMAGE_MAGIC_INVALID');
  });

  it('rejects unknown format versions, even correctly signed', async () => {
    for (const version of [0, 2, 0xffff]) {
      assert.equal(
        refusal(await encodePackage({ version, headerBytes, payload }, [author])),
        'IMAGE_FORMAT_VERSION_UNSUPPORTED',
      );
    }
  });

  it('rejects reserved flag bits, even correctly signed', async () => {
    assert.equal(
      refusal(await encodePackage({ flags: 1, headerBytes, payload }, [author])),
      'IMAGE_FLAGS_UNSUPPORTED',
    );
  });

  it('rejects a header that is not canonical JSON, even correctly signed', async () => {
    const spaced = new TextEncoder().encode(JSON.stringify(sampleHeader, null, 1));
    assert.equal(
      refusal(await encodePackage({ headerBytes: spaced, payload }, [author])),
      'IMAGE_HEADER_NONCANONICAL',
    );
    const duplicated = new TextEncoder().encode(
      `{"kind":"os",${new TextDecoder().decode(headerBytes).slice(1)}`,
    );
    assert.equal(
      refusal(await encodePackage({ headerBytes: duplicated, payload }, [author])),
      'IMAGE_HEADER_NONCANONICAL',
    );
  });

  it('rejects a header that is not JSON or breaks the header schema, even correctly signed', async () => {
    const notJson = new TextEncoder().encode('kind=app');
    assert.equal(
      refusal(await encodePackage({ headerBytes: notJson, payload }, [author])),
      'IMAGE_HEADER_INVALID',
    );
    const foreign = canonicalJsonBytes({ ...sampleHeader, kind: 'firmware' });
    assert.equal(
      refusal(await encodePackage({ headerBytes: foreign, payload }, [author])),
      'IMAGE_HEADER_INVALID',
    );
    const emptyObject = canonicalJsonBytes({});
    assert.equal(
      refusal(await encodePackage({ headerBytes: emptyObject, payload }, [author])),
      'IMAGE_HEADER_INVALID',
    );
  });

  it('rejects a package with no signature or more than the format allows', async () => {
    const signed = encodeSignedPart({ headerBytes, payload });
    assert.equal(refusal(Buffer.concat([signed, Uint8Array.of(0)])), 'IMAGE_SIGNATURE_COUNT_INVALID');
    const five = [newSigner(), newSigner(), newSigner(), newSigner(), author];
    const many = await encodePackage({ headerBytes, payload }, five);
    assert.equal(
      refusal(many, { trustedKeys: five.map((signer) => signer.publicKey) }),
      'IMAGE_SIGNATURE_COUNT_INVALID',
    );
  });

  it('rejects a signature algorithm other than ECDSA P-256 with SHA-256', async () => {
    const signed = encodeSignedPart({ headerBytes, payload });
    const signature = await author.sign(signed, 'der');
    const block = encodeSignatures([
      { keyId: Buffer.from(author.publicKey.keyId, 'hex'), algorithm: 2, signature },
    ]);
    assert.equal(refusal(Buffer.concat([signed, block])), 'IMAGE_SIGNATURE_ALGORITHM_UNSUPPORTED');
  });

  it('rejects two signatures naming the same key', async () => {
    const signed = encodeSignedPart({ headerBytes, payload });
    const entry = {
      keyId: Buffer.from(author.publicKey.keyId, 'hex'),
      algorithm: 1,
      signature: await author.sign(signed, 'der'),
    };
    assert.equal(
      refusal(Buffer.concat([signed, encodeSignatures([entry, entry])])),
      'IMAGE_SIGNATURE_DUPLICATE_KEY',
    );
  });
});

describe('verifyImage refuses untrusted signers', () => {
  it('rejects a signature by an unknown key', async () => {
    const stranger = newSigner();
    assert.equal(
      refusal(await packImage({ header: sampleHeader, payload, signers: [stranger] })),
      'IMAGE_SIGNATURE_UNKNOWN_KEY',
    );
  });

  it('rejects a package that adds an unknown signer beside a trusted one', async () => {
    const both = await packImage({ header: sampleHeader, payload, signers: [author, newSigner()] });
    assert.equal(refusal(both), 'IMAGE_SIGNATURE_UNKNOWN_KEY');
  });

  it('rejects everything when no key is trusted', () => {
    assert.equal(refusal(image, { trustedKeys: [] }), 'IMAGE_SIGNATURE_UNKNOWN_KEY');
  });

  it('rejects a signature copied from another package by the same key', async () => {
    const other = await packImage({
      header: { ...sampleHeader, securityVersion: 0 },
      payload,
      signers: [author],
    });
    const signatureBlock = other.subarray(
      16 + canonicalJsonBytes({ ...sampleHeader, securityVersion: 0 }).byteLength + payload.byteLength,
    );
    const spliced = Buffer.concat([
      image.subarray(0, 16 + headerBytes.byteLength + payload.byteLength),
      signatureBlock,
    ]);
    assert.equal(refusal(spliced), 'IMAGE_SIGNATURE_INVALID');
  });

  it('rejects a malformed signature by a trusted key', () => {
    const signed = encodeSignedPart({ headerBytes, payload });
    const block = encodeSignatures([
      { keyId: Buffer.from(author.publicKey.keyId, 'hex'), algorithm: 1, signature: new Uint8Array(70) },
    ]);
    assert.equal(refusal(Buffer.concat([signed, block])), 'IMAGE_SIGNATURE_INVALID');
  });
});

describe('parseImage', () => {
  it('exposes the signed bytes and the signatures without verifying them', () => {
    const parsed = parseImage(image);
    assert.equal(parsed.formatVersion, 1);
    assert.deepEqual(parsed.signedBytes, image.subarray(0, 16 + headerBytes.byteLength + payload.byteLength));
    assert.equal(parsed.signatures.length, 1);
    assert.equal(parsed.signatures[0]?.keyId, author.publicKey.keyId);
  });
});
