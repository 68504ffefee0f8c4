import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner } from '@orbis/crypto';
import { MAX_IMAGE_PAYLOAD_BYTES, type ImageHeader } from '@orbis/protocol';
import { opensslVerifies, sampleOsHeader } from '@orbis/testkit';
import { parseImage, verifyImage } from '@orbis/verify';
import { packImage } from './pack-image.ts';

const header = sampleOsHeader;
const payload = new Uint8Array(4096).map((_, index) => index & 0xff);

describe('packImage', () => {
  it('writes a package whose signature `openssl dgst -sha256 -verify` accepts', async () => {
    const { signer } = generateSoftwareSigner();
    const parsed = parseImage(await packImage({ header, payload, signers: [signer] }));
    const signature = parsed.signatures[0]?.signature ?? new Uint8Array(0);
    assert.equal(opensslVerifies(signer.publicKey.spki, parsed.signedBytes, signature), true);
    const altered = Buffer.concat([parsed.signedBytes, Uint8Array.of(0)]);
    assert.equal(opensslVerifies(signer.publicKey.spki, altered, signature), false);
  });

  it('stores the header as RFC 8785 canonical JSON, whatever order its fields came in', async () => {
    const { signer } = generateSoftwareSigner();
    const reordered = Object.fromEntries(Object.entries(header).reverse()) as ImageHeader;
    const bytes = await packImage({ header: reordered, payload, signers: [signer] });
    const headerText = new TextDecoder().decode(
      bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(8)),
    );
    assert.equal(
      headerText,
      JSON.stringify(Object.fromEntries(Object.entries(header).sort(([a], [b]) => (a < b ? -1 : 1)))),
    );
    assert.deepEqual(verifyImage(bytes, { trustedKeys: [signer.publicKey] }).header, header);
  });

  it('refuses a header that breaks the schema', async () => {
    const { signer } = generateSoftwareSigner();
    const bad = { ...header, securityVersion: -1 };
    await assert.rejects(packImage({ header: bad, payload, signers: [signer] }), {
      code: 'IMAGE_HEADER_INVALID',
    });
  });

  it('refuses an empty payload and one over the limit', async () => {
    const { signer } = generateSoftwareSigner();
    await assert.rejects(packImage({ header, payload: new Uint8Array(0), signers: [signer] }), {
      code: 'IMAGE_PAYLOAD_EMPTY',
    });
    await assert.rejects(
      packImage({ header, payload: new Uint8Array(MAX_IMAGE_PAYLOAD_BYTES + 1), signers: [signer] }),
      {
        code: 'IMAGE_TOO_LARGE',
      },
    );
  });

  it('refuses no signer, too many signers, and the same signer twice', async () => {
    const signers = Array.from({ length: 5 }, () => generateSoftwareSigner().signer);
    const [first] = signers;
    assert.ok(first);
    await assert.rejects(packImage({ header, payload, signers: [] }), {
      code: 'IMAGE_SIGNATURE_COUNT_INVALID',
    });
    await assert.rejects(packImage({ header, payload, signers }), { code: 'IMAGE_SIGNATURE_COUNT_INVALID' });
    await assert.rejects(packImage({ header, payload, signers: [first, first] }), {
      code: 'IMAGE_SIGNATURE_DUPLICATE_KEY',
    });
  });
});
