import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleOsHeader } from '@orbis/testkit';
import { ImageHeader } from './image-header.ts';
import { MAX_IMAGE_HEADER_BYTES } from './limits.ts';
import { compileSchemaCheck } from './schema-check.ts';

describe('compileSchemaCheck', () => {
  const header = compileSchemaCheck(ImageHeader);

  it('says where a value breaks the schema, and nothing for a valid one', () => {
    const valid = sampleOsHeader;
    assert.equal(header.check(valid), true);
    assert.equal(header.describe(valid), '');
    assert.equal(header.check({ ...valid, securityVersion: 'three' }), false);
    assert.match(header.describe({ ...valid, securityVersion: 'three' }), /securityVersion/);
    assert.match(header.describe(null), /^\/: /);
  });
});

describe('image header limit', () => {
  it('fits the largest header the schema allows within MAX_IMAGE_HEADER_BYTES', () => {
    const largest = {
      kind: 'security-monitor',
      tenantId: 'f'.repeat(8) + '-ffff-ffff-ffff-' + 'f'.repeat(12),
      componentId: 'f'.repeat(8) + '-ffff-ffff-ffff-' + 'f'.repeat(12),
      imageId: 'f'.repeat(8) + '-ffff-ffff-ffff-' + 'f'.repeat(12),
      name: 'N'.repeat(64),
      version: 'X'.repeat(64),
      securityVersion: 0xffff_ffff,
    };
    // Every field at its maximum length, whatever its pattern: an upper bound on any valid header.
    assert.ok(Buffer.byteLength(JSON.stringify(largest)) < MAX_IMAGE_HEADER_BYTES);
  });
});
