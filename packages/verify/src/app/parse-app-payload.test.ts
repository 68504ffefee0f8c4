import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_IMAGE_PAYLOAD_BYTES, type AppImageHeader } from '@orbis/protocol';
import { COMPONENT_ID, encodeRawAppPayload, fullManifest, TENANT_ID } from './app-fixtures.test-helpers.ts';
import { assertManifestMatchesHeader, parseAppPayload } from './parse-app-payload.ts';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const refusedWith = (raw: Parameters<typeof encodeRawAppPayload>[0], code: string) =>
  assert.throws(() => parseAppPayload(encodeRawAppPayload(raw)), { code });

describe('parseAppPayload', () => {
  it('reads the manifest, the files in path order and the entry point', () => {
    const files = [
      { path: 'app/assets/logo.bin', bytes: Uint8Array.of(0, 255, 7) },
      { path: 'app/main.js', bytes: 'orbis.log.info("hi");\n' },
      { path: 'app/main.js.map', bytes: '{}' },
    ];
    const parsed = parseAppPayload(encodeRawAppPayload({ files }));
    assert.equal(parsed.formatVersion, 1);
    assert.deepEqual(parsed.manifest, fullManifest());
    assert.deepEqual([...parsed.files.keys()], ['app/assets/logo.bin', 'app/main.js', 'app/main.js.map']);
    assert.deepEqual([...(parsed.files.get('app/assets/logo.bin') ?? [])], [0, 255, 7]);
    assert.equal(text(parsed.entryPoint), 'orbis.log.info("hi");\n');
  });

  it('accepts an empty file', () => {
    const parsed = parseAppPayload(encodeRawAppPayload({ files: [{ path: 'app/main.js', bytes: '' }] }));
    assert.equal(parsed.entryPoint.byteLength, 0);
  });

  it('refuses a payload larger than an image payload may be, before reading it', () => {
    assert.throws(() => parseAppPayload(new Uint8Array(MAX_IMAGE_PAYLOAD_BYTES + 1)), {
      code: 'APP_PAYLOAD_TOO_LARGE',
    });
  });

  it('refuses every truncation of a valid payload', () => {
    const bytes = encodeRawAppPayload();
    for (let length = 0; length < bytes.byteLength; length += 1) {
      assert.throws(
        () => parseAppPayload(bytes.subarray(0, length)),
        { code: 'APP_PAYLOAD_TRUNCATED' },
        `${length}`,
      );
    }
    assert.doesNotThrow(() => parseAppPayload(bytes));
  });

  it('refuses another magic or format version', () => {
    refusedWith({ magic: 'OIMG' }, 'APP_PAYLOAD_MAGIC_INVALID');
    refusedWith({ version: 2 }, 'APP_PAYLOAD_VERSION_UNSUPPORTED');
    refusedWith({ version: 0 }, 'APP_PAYLOAD_VERSION_UNSUPPORTED');
  });

  it('refuses no file or more than 64', () => {
    refusedWith({ fileCount: 0 }, 'APP_PAYLOAD_FILE_COUNT_INVALID');
    refusedWith({ fileCount: 65 }, 'APP_PAYLOAD_FILE_COUNT_INVALID');
    const files = Array.from({ length: 64 }, (_, index) => ({
      path: index === 0 ? 'app/main.js' : `app/x${String(index).padStart(2, '0')}.js`,
      bytes: '',
    }));
    assert.equal(parseAppPayload(encodeRawAppPayload({ files })).files.size, 64);
  });

  it('refuses a manifest over 16 KiB before reading it', () => {
    refusedWith({ manifestLength: 16 * 1024 + 1 }, 'APP_PAYLOAD_TOO_LARGE');
  });

  it('refuses a manifest that is not canonical JSON, so it cannot read two ways', () => {
    const pretty = Buffer.from(JSON.stringify(fullManifest(), null, 2));
    refusedWith({ manifestBytes: pretty }, 'APP_PAYLOAD_MANIFEST_NONCANONICAL');
    const duplicated = Buffer.from(
      JSON.stringify(fullManifest()).replace('{"SchemaVersion":1', '{"Capabilities":{},"SchemaVersion":1'),
    );
    refusedWith({ manifestBytes: duplicated }, 'APP_PAYLOAD_MANIFEST_NONCANONICAL');
    refusedWith({ manifestBytes: Buffer.from('{"SchemaVersion"') }, 'APP_MANIFEST_NOT_JSON');
    refusedWith({ manifestBytes: new Uint8Array(0) }, 'APP_MANIFEST_NOT_JSON');
  });

  it('refuses a manifest that validateAppManifest refuses, with its code', () => {
    const manifest = { ...fullManifest(), Capabilities: { Camera: true } };
    refusedWith({ manifest }, 'APP_MANIFEST_CAPABILITY_UNKNOWN');
    const quota = { ...fullManifest(), Capabilities: { MutableStorage: { SizeKB: 1 << 20 } } };
    refusedWith({ manifest: quota }, 'APP_MANIFEST_QUOTA_INVALID');
  });

  it('refuses a file path that is empty, too long, absolute, climbs out or is not ASCII', () => {
    const entry = { path: 'app/main.js', bytes: 'x' };
    for (const path of [
      '',
      'a'.repeat(129),
      '/app/main.js',
      '../main.js',
      'app/../main.js',
      '.env',
      'app/',
      'a b.js',
    ]) {
      refusedWith({ files: [entry, { path, bytes: 'x' }] }, 'APP_PAYLOAD_PATH_INVALID');
    }
    refusedWith(
      { files: [{ path: Uint8Array.of(0x61, 0xc3, 0xa9), bytes: 'x' }, entry] },
      'APP_PAYLOAD_PATH_INVALID',
    );
    refusedWith({ files: [{ ...entry, pathLength: 0 }] }, 'APP_PAYLOAD_PATH_INVALID');
    refusedWith(
      { files: [{ path: 'a'.repeat(129), bytes: 'x', pathLength: 129 }] },
      'APP_PAYLOAD_PATH_INVALID',
    );
  });

  it('refuses files out of path order, or the same path twice', () => {
    const main = { path: 'app/main.js', bytes: 'x' };
    refusedWith({ files: [main, { path: 'app/a.js', bytes: 'y' }] }, 'APP_PAYLOAD_FILE_ORDER_INVALID');
    refusedWith({ files: [main, main] }, 'APP_PAYLOAD_FILE_ORDER_INVALID');
  });

  it('refuses bytes after the last file', () => {
    refusedWith({ trailing: Uint8Array.of(0) }, 'APP_PAYLOAD_TRAILING_BYTES');
  });

  it('refuses a payload without a file at the entry point', () => {
    refusedWith({ files: [{ path: 'main.js', bytes: 'x' }] }, 'APP_PAYLOAD_ENTRY_POINT_MISSING');
  });
});

describe('assertManifestMatchesHeader', () => {
  const header: AppImageHeader = {
    kind: 'app',
    tenantId: TENANT_ID,
    componentId: COMPONENT_ID,
    imageId: 'c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f',
    name: 'guardian',
    version: '1.0.0',
    securityVersion: 1,
  };

  it('accepts a manifest of the component the signed header names', () => {
    assert.doesNotThrow(() => assertManifestMatchesHeader(fullManifest(), header));
  });

  it('refuses a manifest that names another component than the signed header', () => {
    const other = { ...header, componentId: 'e3a1c5b7-9d2f-4e6a-8b0c-1d3f5a7c9e2b' };
    assert.throws(() => assertManifestMatchesHeader(fullManifest(), other), {
      code: 'APP_PAYLOAD_COMPONENT_MISMATCH',
    });
  });
});
