import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAppPayload } from './parse-app-payload.ts';

const doc = readFileSync(new URL('../../../../docs/formats/app-package.md', import.meta.url), 'utf8');
const [example] = [...doc.matchAll(/```hex\n([\s\S]*?)```/g)].map(
  (match) => new Uint8Array(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'hex')),
);

describe('docs/formats/app-package.md worked example', () => {
  it('parses to the manifest and the bundle the document shows', () => {
    assert.ok(example, 'the document has a payload in hex');
    assert.equal(example.byteLength, 185);
    const parsed = parseAppPayload(example);
    assert.deepEqual(parsed.manifest, {
      SchemaVersion: 1,
      Name: 'blink',
      ComponentId: '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10',
      EntryPoint: 'main.js',
      Capabilities: { Gpio: [8] },
    });
    assert.equal(new TextDecoder().decode(parsed.entryPoint), 'orbis.log.info("hi");\n');
  });
});
