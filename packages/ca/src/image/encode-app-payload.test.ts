import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSoftwareSigner } from '@orbis/crypto';
import { parseAppPayload, verifyImage } from '@orbis/verify';
import { sampleAppHeader } from '@orbis/testkit';
import { encodeAppPayload } from './encode-app-payload.ts';
import { packImage } from './pack-image.ts';

const manifest = {
  SchemaVersion: 1,
  Name: 'blink',
  ComponentId: sampleAppHeader.componentId,
  EntryPoint: 'main.js',
  Capabilities: { Gpio: [8] },
};
const bundle = new TextEncoder().encode('orbis.log.info("blink");\n');

describe('encodeAppPayload', () => {
  it('writes a payload that parseAppPayload reads back, files sorted and manifest canonical', () => {
    const files = new Map([
      ['main.js', bundle],
      ['assets/a.bin', Uint8Array.of(1, 2)],
    ]);
    const payload = encodeAppPayload({
      manifest: Object.fromEntries(Object.entries(manifest).reverse()),
      files,
    });
    const parsed = parseAppPayload(payload);
    assert.deepEqual(parsed.manifest, manifest);
    assert.deepEqual([...parsed.files.keys()], ['assets/a.bin', 'main.js']);
    assert.deepEqual(parsed.entryPoint, bundle);
  });

  it('is the payload of an app image that verifies', async () => {
    const { signer } = generateSoftwareSigner();
    const payload = encodeAppPayload({ manifest, files: new Map([['main.js', bundle]]) });
    const image = await packImage({ header: sampleAppHeader, payload, signers: [signer] });
    const verified = verifyImage(image, { trustedKeys: [signer.publicKey] });
    assert.deepEqual(parseAppPayload(verified.payload).manifest, manifest);
  });

  it('refuses a manifest validateAppManifest refuses, with its code', () => {
    const files = new Map([['main.js', bundle]]);
    assert.throws(
      () => encodeAppPayload({ manifest: { ...manifest, Capabilities: { Camera: [] } }, files }),
      {
        code: 'APP_MANIFEST_CAPABILITY_UNKNOWN',
      },
    );
  });

  it('refuses no files, too many, a path outside the bundle and a missing entry point', () => {
    const many = new Map<string, Uint8Array>(
      Array.from({ length: 65 }, (_, index) => [`f${index}.js`, bundle]),
    );
    many.set('main.js', bundle);
    const cases: [Map<string, Uint8Array>, string][] = [
      [new Map<string, Uint8Array>(), 'APP_PAYLOAD_FILE_COUNT_INVALID'],
      [many, 'APP_PAYLOAD_FILE_COUNT_INVALID'],
      [
        new Map([
          ['main.js', bundle],
          ['../x.js', bundle],
        ]),
        'APP_PAYLOAD_PATH_INVALID',
      ],
      [
        new Map([
          ['main.js', bundle],
          ['a'.repeat(129), bundle],
        ]),
        'APP_PAYLOAD_PATH_INVALID',
      ],
      [new Map([['app.js', bundle]]), 'APP_PAYLOAD_ENTRY_POINT_MISSING'],
    ];
    for (const [files, code] of cases) assert.throws(() => encodeAppPayload({ manifest, files }), { code });
  });

  it('refuses files larger than an image payload may be', () => {
    const files = new Map([['main.js', new Uint8Array(64 * 1024 * 1024)]]);
    assert.throws(() => encodeAppPayload({ manifest, files }), { code: 'APP_PAYLOAD_TOO_LARGE' });
  });
});
