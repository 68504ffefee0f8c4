import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePublicKeySpki } from '@orbis/crypto';
import { opensslVerifies } from '@orbis/testkit';
import { parseImage } from './parse-image.ts';
import { verifyImage } from './verify-image.ts';

const doc = readFileSync(new URL('../../../../docs/formats/image-package.md', import.meta.url), 'utf8');
const hexBlocks = [...doc.matchAll(/```hex\n([\s\S]*?)```/g)].map(
  (match) => new Uint8Array(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'hex')),
);

describe('docs/formats/image-package.md worked example', () => {
  const [spki, image] = hexBlocks;
  assert.ok(spki && image, 'the document has a key and a package in hex');
  const key = parsePublicKeySpki(spki);

  it('parses and verifies with the key the document shows', () => {
    assert.ok(doc.includes(`Its key ID (SHA-256 of those 91 bytes) is \`${key.keyId}\``));
    const verified = verifyImage(image, { trustedKeys: [key] });
    assert.equal(verified.header.kind, 'app');
    assert.equal(new TextDecoder().decode(verified.payload), 'hello, orbis\n');
  });

  it('verifies with `openssl dgst -sha256 -verify` as the document describes', () => {
    const parsed = parseImage(image);
    const signature = parsed.signatures[0]?.signature ?? new Uint8Array(0);
    assert.equal(opensslVerifies(spki, image.subarray(0, parsed.signedBytes.byteLength), signature), true);
  });
});
