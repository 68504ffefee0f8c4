import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import { forEachBackend } from '../db/test-databases.ts';
import { createServiceFixture, type Json, type ServiceFixture } from '../testing/service-fixture.ts';

/** GET /api/v1/updates/roots: the roots devices are made with, to any authenticated caller. */
forEachBackend('GET /api/v1/updates/roots', (context) => {
  let fixture: ServiceFixture;

  before(async () => {
    fixture = await createServiceFixture(context);
  });

  it('gives any member both roots exactly as stored, and each still verifies under its own root keys', async () => {
    for (const who of ['A-Reader', 'B-Administrator', 'operator']) {
      const response = await fixture.call('GET', '/api/v1/updates/roots', fixture.tokens[who]);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(Object.keys(response.body).sort(), ['director', 'imageRepository']);
      for (const repository of ['imageRepository', 'director'] as const) {
        const served = response.body[repository] as Json;
        // Nothing dropped by the response schema: the signature covers every field.
        assert.deepEqual(served, JSON.parse(fixture.tufRoots[repository]));
        const root = Metadata.fromJSON(MetadataKind.Root, served as Record<string, never>);
        root.verifyDelegate('root', root);
      }
    }
  });

  it('refuses a caller without a token, or with one it did not issue', async () => {
    for (const token of [undefined, 'orbis_session_forged']) {
      const response = await fixture.call('GET', '/api/v1/updates/roots', token);
      assert.deepEqual([response.status, response.body['code']], [401, 'AUTH_REQUIRED']);
    }
  });
});
