import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Compile } from 'typebox/compile';
import { AppManifest } from './app-manifest.ts';
import { AttestationClaims, ORBIS_EAT_PROFILE } from './attestation.ts';
import { ImageHeader } from './image-header.ts';

const uuid = '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10';
const tenant = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';
const hex64 = 'ab'.repeat(32);
const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64url');

describe('ImageHeader', () => {
  const check = Compile(ImageHeader);
  const app = {
    kind: 'app',
    tenantId: tenant,
    componentId: uuid,
    imageId: uuid,
    name: 'blink',
    version: '1.2.3',
    securityVersion: 4,
  };

  it('accepts an app header naming its tenant, and an OS header without one', () => {
    assert.equal(check.Check(app), true);
    const { tenantId: _tenantId, ...platform } = app;
    assert.equal(check.Check({ ...platform, kind: 'os' }), true);
  });

  it('refuses an app header without a tenant, and an OS header with one', () => {
    const { tenantId: _tenantId, ...withoutTenant } = app;
    assert.equal(check.Check(withoutTenant), false);
    assert.equal(check.Check({ ...app, kind: 'os' }), false);
  });

  it('refuses unknown fields, unknown kinds, upper-case IDs and out-of-range security versions', () => {
    assert.equal(check.Check({ ...app, extra: true }), false);
    assert.equal(check.Check({ ...app, kind: 'firmware' }), false);
    assert.equal(check.Check({ ...app, componentId: uuid.toUpperCase() }), false);
    assert.equal(check.Check({ ...app, securityVersion: -1 }), false);
    assert.equal(check.Check({ ...app, securityVersion: 2 ** 32 }), false);
    assert.equal(check.Check({ ...app, version: '01.2.3' }), false);
  });
});

describe('AppManifest', () => {
  const check = Compile(AppManifest);
  const manifest = {
    SchemaVersion: 1,
    Name: 'blink',
    ComponentId: uuid,
    EntryPoint: 'app/main.js',
    Capabilities: {
      Gpio: [8, 9],
      AllowedConnections: ['telemetry.example.com', '*.example.net', '192.0.2.10'],
      MutableStorage: { SizeKB: 64 },
      DeviceAuthentication: tenant,
      PowerControls: ['ForceReboot'],
    },
  };

  it('accepts a manifest with the capabilities of ARCHITECTURE.md', () => {
    assert.equal(check.Check(manifest), true);
  });

  it('refuses an entry point that climbs out of the bundle', () => {
    for (const EntryPoint of ['../main.js', 'app/../../main.js', '/main.js', '.hidden.js', 'main.mjs']) {
      assert.equal(check.Check({ ...manifest, EntryPoint }), false, EntryPoint);
    }
  });

  it('refuses unknown capabilities and duplicate pins', () => {
    assert.equal(check.Check({ ...manifest, Capabilities: { Camera: true } }), false);
    assert.equal(check.Check({ ...manifest, Capabilities: { Gpio: [8, 8] } }), false);
    assert.equal(
      check.Check({ ...manifest, Capabilities: { AllowedConnections: ['http://x.example'] } }),
      false,
    );
  });
});

describe('AttestationClaims', () => {
  const check = Compile(AttestationClaims);
  const claims = {
    eat_nonce: b64(38),
    ueid: b64(33),
    eat_profile: ORBIS_EAT_PROFILE,
    iat: 1_795_000_000,
    bootcount: 12,
    bootseed: b64(32),
    dbgstat: 3,
    orbis_boot_log: [
      { kind: 'os', componentId: uuid, version: '26.11.0', securityVersion: 3, sha256: hex64, signer: hex64 },
    ],
    orbis_counters: { antiRollback: { [uuid]: 3 }, capabilityEpoch: 0 },
    orbis_capabilities: [],
    cnf: { jwk: { kty: 'EC', crv: 'P-256', x: b64(32), y: b64(32) } },
  };

  it('accepts the claim set the root of trust signs', () => {
    assert.equal(check.Check(claims), true);
  });

  it('refuses a nonce or UEID of the wrong size and a cnf key with private members', () => {
    assert.equal(check.Check({ ...claims, eat_nonce: b64(37) }), false);
    assert.equal(check.Check({ ...claims, ueid: b64(32) }), false);
    const jwk = { ...claims.cnf.jwk, d: b64(32) };
    assert.equal(check.Check({ ...claims, cnf: { jwk } }), false);
  });

  it('refuses an empty boot log and anti-rollback counters keyed by anything but a component ID', () => {
    assert.equal(check.Check({ ...claims, orbis_boot_log: [] }), false);
    const counters = { antiRollback: { os: 3 }, capabilityEpoch: 0 };
    assert.equal(check.Check({ ...claims, orbis_counters: counters }), false);
  });
});
