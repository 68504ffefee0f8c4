import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner, publicKeyFromKeyObject } from '@orbis/crypto';
import { ATTESTATION_POLICY_OIDS, MAX_EVIDENCE_BYTES, type BootLogEntry } from '@orbis/protocol';
import { parseCertificate } from '@orbis/verify';
import {
  createTestTenantCa,
  issueTestCertificate,
  issueTestDeviceCertificate,
  opensslCertificateText,
  opensslVerifyCertificate,
  readCertificate,
  toPem,
} from '@orbis/testkit';
import { forEachBackend } from '../db/test-databases.ts';
import { createDeviceListener } from '../device/device-listener.ts';
import { createDeviceClient, type DeviceClient } from '../testing/device-client.ts';
import { createServiceFixture, type Json, type ServiceFixture } from '../testing/service-fixture.ts';
import { createSoftwareDevice, type SoftwareDevice } from '../testing/software-device.ts';
import {
  createTestPki,
  issueListenerTestCertificate,
  testRandom,
  type TestPki,
} from '../testing/test-pki.ts';
import { listDeviceSecurityEvents } from './security-events.repo.ts';
import { createAttestationDeps, type AttestationDeps } from './attestation.service.ts';
import { DeviceConnections } from '../device/device-connections.ts';
import { setDeviceQuarantined } from '../registry/registry.repo.ts';

/**
 * Attestation end to end over a real HTTPS device listener, on both storage backends: claim →
 * challenge → evidence → certificate, and one test per attack, named after it.
 */
const hex = (digit: string) => digit.repeat(64);
const stage = (
  kind: BootLogEntry['kind'],
  index: number,
  securityVersion: number,
  sha: string,
): BootLogEntry => ({
  kind,
  componentId: `0000000${index}-0000-4000-8000-000000000000`,
  version: `26.${securityVersion}.0`,
  securityVersion,
  sha256: sha,
  signer: hex('e'),
});
const release3 = [
  stage('bootloader', 1, 3, hex('1')),
  stage('security-monitor', 2, 3, hex('2')),
  stage('os', 3, 3, hex('3')),
];
const release4 = [
  stage('bootloader', 1, 4, hex('4')),
  stage('security-monitor', 2, 4, hex('5')),
  stage('os', 3, 4, hex('6')),
];

forEachBackend('attestation', (context) => {
  let clock = Date.now();
  let fixture: ServiceFixture;
  let pki: TestPki;
  let listener: FastifyInstance;
  let port = 0;
  let serverCa = '';
  const clients: DeviceClient[] = [];
  const devices: SoftwareDevice[] = Array.from({ length: 12 }, () => createSoftwareDevice(release3));
  const [good, unclaimed, disabled, outdated, clone, rollback, spare] = devices as [
    SoftwareDevice,
    SoftwareDevice,
    SoftwareDevice,
    SoftwareDevice,
    SoftwareDevice,
    SoftwareDevice,
    SoftwareDevice,
  ];
  let deps: AttestationDeps;
  const connections = new DeviceConnections();

  function client(
    options: { certificate?: string; key?: SoftwareDevice['certificateKey'] } = {},
  ): DeviceClient {
    const created = createDeviceClient({ port, ca: serverCa, ...options });
    clients.push(created);
    return created;
  }

  async function attestOnce(
    device: SoftwareDevice,
    via = client(),
    change?: Parameters<SoftwareDevice['evidence']>[2],
  ) {
    // Time passes between attestations: a device spends its nonces in the order issued, and two
    // issued in the same millisecond are one too many (ADR 0009).
    clock += 1;
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: device.deviceId,
    });
    const nonce = challenge.body['nonce'] as string;
    const evidence = device.evidence(nonce, clock, change);
    return {
      nonce,
      evidence,
      response: await via.call('POST', '/device/v1/attestation', {
        deviceId: device.deviceId,
        nonce,
        evidence,
      }),
    };
  }

  async function startListener(): Promise<void> {
    const tls = issueListenerTestCertificate(clock);
    serverCa = tls.pem;
    listener = await createDeviceListener(
      {
        logLevel: 'silent',
        tls: { key: tls.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, cert: tls.pem },
      },
      { attestation: deps, anchors: pki, connections },
    );
    await listener.listen({ host: '127.0.0.1', port: 0 });
    port = (listener.server.address() as { port: number }).port;
  }

  before(async () => {
    fixture = await createServiceFixture(context, () => clock, { deviceConnections: connections });
    pki = await createTestPki(clock);
    deps = createAttestationDeps({
      db: context.db,
      pki,
      nonceKey: randomBytes(32),
      capabilityKey: generateSoftwareSigner().signer.publicKey,
      random: testRandom,
      now: () => clock,
      certificateLifetimeSeconds: 86_400,
    });
    const { call, tokens, tenants } = fixture;
    const operator = tokens['operator'];
    await call('POST', '/api/v1/os-releases', operator, { version: '26.3.0', stages: release3 });
    const manufacturerKey = generateSoftwareSigner().signer;
    const manufacturer = await call('POST', '/api/v1/manufacturers', operator, {
      name: 'Silicon Co',
      publicKey: encodeBase64Url(manufacturerKey.publicKey.spki),
    });
    const manufacturerId = manufacturer.body['id'] as string;
    const list = await signDeviceList(
      {
        formatVersion: 1,
        manufacturerId,
        listId: randomUUID(),
        issuedAt: Math.floor(clock / 1000),
        devices: devices.map((device) => ({
          deviceId: device.deviceId,
          identityKey: encodeBase64Url(device.identitySpki),
          model: 'orbis-devkit',
        })),
      },
      manufacturerKey,
    );
    await call('POST', `/api/v1/manufacturers/${manufacturerId}/device-lists`, operator, list);
    const claimed = devices.filter((device) => device !== unclaimed).map((device) => device.deviceId);
    await call('POST', `/api/v1/tenants/${tenants.A}/devices/claims`, tokens['A-Administrator'], {
      deviceIds: claimed,
    });
    await call(
      'POST',
      `/api/v1/tenants/${tenants.A}/devices/${disabled.deviceId}/disable`,
      tokens['A-Administrator'],
    );
    await startListener();
  });

  after(async () => {
    for (const each of clients) each.close();
    await listener.close();
  });

  it('issues a 24-hour certificate of the exact profile to a claimed device that booted a registered OS', async () => {
    const { response } = await attestOnce(good);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body['resultClass'], 'trusted');
    assert.equal(response.body['osStatus'], 'current');
    const der = new Uint8Array(Buffer.from(response.body['certificate'] as string, 'base64'));
    const anchors = (response.body['anchors'] as string[]).map(
      (pem) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')),
    );
    assert.ok(opensslVerifyCertificate({ anchors, leaf: der, purpose: 'sslclient', at: clock }).verified);
    const text = opensslCertificateText(der);
    assert.match(text, new RegExp(`Subject: CN ?= ?${good.deviceId}`));
    assert.match(text, new RegExp(`URI:urn:orbis:tenant:${fixture.tenants.A}:device:${good.deviceId}`));
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
    assert.match(text, /TLS Web Client Authentication, TLS Web Server Authentication/);
    const view = readCertificate(der);
    const parsed = parseCertificate(der);
    assert.equal(parsed.notAfter - parsed.notBefore, (24 * 60 + 5) * 60_000);
    assert.equal(response.body['notAfter'], parsed.notAfter);
    assert.deepEqual(parsed.certificatePolicies, [ATTESTATION_POLICY_OIDS.trusted]);
    assert.equal(parsed.noRevAvail, true);
    assert.deepEqual(parsed.groupAssignment?.tenantId, fixture.tenants.A);
    const certifiedKey = publicKeyFromKeyObject(good.certificateKey);
    assert.deepEqual(view.subjectPublicKeyInfo, certifiedKey.spki);
    // The tenant sees the device's current certificate.
    const shown = await fixture.call(
      'GET',
      `/api/v1/tenants/${fixture.tenants.A}/devices/${good.deviceId}`,
      fixture.tokens['A-Reader'],
    );
    assert.deepEqual(shown.body['certificate'], {
      serial: parsed.serialNumber,
      resultClass: 'trusted',
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
    });
  });

  it('renews over the mTLS connection of the current certificate and serves device routes on it', async () => {
    const first = await attestOnce(good);
    const mtls = client({
      certificate: toPem(Buffer.from(first.response.body['certificate'] as string, 'base64')),
      key: good.certificateKey,
    });
    const whoami = await mtls.call('GET', '/device/v1/whoami');
    assert.deepEqual(
      [whoami.status, whoami.body['deviceId'], whoami.body['resultClass']],
      [200, good.deviceId, 'trusted'],
    );
    const renewed = await attestOnce(good, mtls);
    assert.equal(renewed.response.status, 200);
    const anchors = await mtls.call('GET', '/device/v1/tenant-anchors');
    assert.equal((anchors.body['anchors'] as string[]).length, 1);
  });

  it('rejects a replayed nonce, also after the device listener restarts (crash/ replays one after a process restart)', async () => {
    const { nonce, evidence, response } = await attestOnce(spare);
    assert.equal(response.status, 200);
    const replay = await client().call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce,
      evidence,
    });
    assert.equal(replay.body['code'], 'ATTESTATION_NONCE_REPLAYED');
    await listener.close();
    await startListener();
    const afterRestart = await client().call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce,
      evidence,
    });
    assert.equal(afterRestart.body['code'], 'ATTESTATION_NONCE_REPLAYED');
    const events = await listDeviceSecurityEvents(context.db, spare.deviceId, 10);
    assert.ok(events.some((event) => event.code === 'ATTESTATION_NONCE_REPLAYED'));
  });

  it('rejects an expired nonce', async () => {
    const via = client();
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: spare.deviceId,
    });
    const nonce = challenge.body['nonce'] as string;
    clock += 6 * 60_000;
    try {
      const evidence = spare.evidence(nonce, clock);
      const response = await via.call('POST', '/device/v1/attestation', {
        deviceId: spare.deviceId,
        nonce,
        evidence,
      });
      assert.equal(response.body['code'], 'ATTESTATION_NONCE_EXPIRED');
    } finally {
      clock -= 6 * 60_000;
    }
  });

  it('refuses an older nonce once a newer one of the same device was used (nonces are spent in the order issued)', async () => {
    spare.reboot();
    const via = client();
    const challenge = async () =>
      (await via.call('POST', '/device/v1/attestation/challenge', { deviceId: spare.deviceId })).body[
        'nonce'
      ] as string;
    const older = await challenge();
    // Time moves on (and is not moved back: the device's newer nonce stays spent).
    clock += 1;
    const newer = await challenge();
    const admitted = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce: newer,
      evidence: spare.evidence(newer, clock),
    });
    assert.equal(admitted.status, 200);
    // Never used, still within its lifetime, validly MACed: but issued before one already spent.
    const stale = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce: older,
      evidence: spare.evidence(older, clock),
    });
    assert.equal(stale.body['code'], 'ATTESTATION_NONCE_REPLAYED');
  });

  it('rejects a nonce issued to another device', async () => {
    const via = client();
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', { deviceId: good.deviceId });
    const nonce = challenge.body['nonce'] as string;
    const response = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce,
      evidence: spare.evidence(nonce, clock),
    });
    assert.equal(response.body['code'], 'ATTESTATION_NONCE_INVALID');
  });

  it('rejects evidence signed by an unregistered key', async () => {
    const impostor = createSoftwareDevice(release3);
    const via = client();
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: spare.deviceId,
    });
    const nonce = challenge.body['nonce'] as string;
    const forged = impostor.evidence(nonce, clock, (claims) => ({
      ...claims,
      ueid: spare.claims(nonce, clock).ueid,
    }));
    const refused = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce,
      evidence: forged,
    });
    assert.equal(refused.body['code'], 'ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects claims altered after signing, such as a cnf key the root of trust did not vouch for', async () => {
    const via = client();
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: spare.deviceId,
    });
    const nonce = challenge.body['nonce'] as string;
    const [header, , signature] = spare.evidence(nonce, clock).split('.');
    const attackerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const altered = { ...spare.claims(nonce, clock), cnf: { jwk: publicKeyJwk(attackerKey) } };
    const evidence = `${header ?? ''}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature ?? ''}`;
    const refused = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce,
      evidence,
    });
    assert.equal(refused.body['code'], 'ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects oversized evidence', async () => {
    const via = client();
    const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: spare.deviceId,
    });
    const evidence = 'a'.repeat(MAX_EVIDENCE_BYTES + 1);
    const refused = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce: challenge.body['nonce'],
      evidence,
    });
    assert.deepEqual([refused.status, refused.body['code']], [413, 'ATTESTATION_EVIDENCE_TOO_LARGE']);
    const huge = await via.call('POST', '/device/v1/attestation', {
      deviceId: spare.deviceId,
      nonce: 'x',
      evidence: 'a'.repeat(10 * MAX_EVIDENCE_BYTES),
    });
    assert.deepEqual([huge.status, huge.body['code']], [413, 'REQUEST_TOO_LARGE']);
  });

  it('rejects an unknown OS measurement, and records it as a security event', async () => {
    spare.bootLog = [
      release3[0] as BootLogEntry,
      release3[1] as BootLogEntry,
      { ...(release3[2] as BootLogEntry), sha256: hex('9') },
    ];
    try {
      spare.reboot();
      const { response } = await attestOnce(spare);
      assert.equal(response.body['code'], 'APPRAISAL_MEASUREMENT_UNKNOWN');
    } finally {
      spare.bootLog = release3;
    }
    const events = await listDeviceSecurityEvents(context.db, spare.deviceId, 50);
    assert.ok(
      events.some(
        (event) => event.code === 'APPRAISAL_MEASUREMENT_UNKNOWN' && event.tenantId === fixture.tenants.A,
      ),
    );
  });

  it('rejects an unclaimed device, a disabled device and an unregistered one', async () => {
    assert.equal((await attestOnce(unclaimed)).response.body['code'], 'APPRAISAL_DEVICE_UNCLAIMED');
    assert.equal((await attestOnce(disabled)).response.body['code'], 'APPRAISAL_DEVICE_DISABLED');
    assert.equal(
      (await attestOnce(createSoftwareDevice(release3))).response.body['code'],
      'ATTESTATION_DEVICE_UNKNOWN',
    );
  });

  it('rejects a bootcount that goes backwards', async () => {
    rollback.bootcount = 5;
    assert.equal((await attestOnce(rollback)).response.status, 200);
    rollback.bootcount = 4;
    assert.equal((await attestOnce(rollback)).response.body['code'], 'APPRAISAL_BOOTCOUNT_REGRESSED');
  });

  it('detects a clone: one bootcount with two boot seeds', async () => {
    assert.equal((await attestOnce(clone)).response.status, 200);
    // A copy of the root of trust boots with the same counter value but its own boot seed.
    const original = clone.bootseed;
    clone.bootseed = randomBytes(32).toString('base64url');
    try {
      assert.equal((await attestOnce(clone)).response.body['code'], 'APPRAISAL_CLONE_DETECTED');
    } finally {
      clone.bootseed = original;
    }
  });

  it('keeps giving normal certificates to devices on an older OS that a newer release supersedes', async () => {
    await fixture.call('POST', '/api/v1/os-releases', fixture.tokens['operator'], {
      version: '26.4.0',
      stages: release4,
    });
    good.reboot();
    const { response } = await attestOnce(good);
    assert.deepEqual([response.body['resultClass'], response.body['osStatus']], ['trusted', 'superseded']);
  });

  it('gives an OS below the group minimum an update-only certificate from the update CA, refused on trusted routes', async () => {
    const groups = (
      await fixture.call('GET', `/api/v1/tenants/${fixture.tenants.A}/groups`, fixture.tokens['A-Reader'])
    ).body['groups'] as Json[];
    const fieldTest = groups.find((group) => group['name'] === 'Field Test')?.['id'] as string;
    await fixture.call(
      'PUT',
      `/api/v1/tenants/${fixture.tenants.A}/groups/${fieldTest}/minimum-os-security-version`,
      fixture.tokens['A-Administrator'],
      {
        minimumOsSecurityVersion: 4,
      },
    );
    try {
      const { response } = await attestOnce(outdated);
      assert.equal(response.body['resultClass'], 'update-only');
      const der = new Uint8Array(Buffer.from(response.body['certificate'] as string, 'base64'));
      assert.ok(
        opensslVerifyCertificate({
          anchors: [pki.updateCa.certificate.der],
          leaf: der,
          purpose: 'sslclient',
          at: clock,
        }).verified,
      );
      assert.doesNotMatch(opensslCertificateText(der), /TLS Web Server Authentication/);
      const mtls = client({ certificate: toPem(der), key: outdated.certificateKey });
      assert.equal((await mtls.call('GET', '/device/v1/whoami')).body['resultClass'], 'update-only');
      const refused = await mtls.call('GET', '/device/v1/tenant-anchors');
      assert.deepEqual([refused.status, refused.body['code']], [403, 'CERT_CLASS_NOT_ALLOWED']);
    } finally {
      await fixture.call(
        'PUT',
        `/api/v1/tenants/${fixture.tenants.A}/groups/${fieldTest}/minimum-os-security-version`,
        fixture.tokens['A-Administrator'],
        {
          minimumOsSecurityVersion: null,
        },
      );
    }
  });

  it('refuses a self-signed client certificate carrying a registered device’s ID on every device route', async () => {
    const forged = issueTestDeviceCertificate({
      ca: createTestTenantCa(),
      tenantId: fixture.tenants.A,
      deviceId: good.deviceId,
    });
    const selfSigned = issueTestCertificate({
      subject: `/CN=${good.deviceId}`,
      notBefore: clock - 60_000,
      notAfter: clock + 3_600_000,
      extensions: {
        subjectAltName: `URI:urn:orbis:tenant:${fixture.tenants.A}:device:${good.deviceId}`,
        extendedKeyUsage: 'clientAuth',
      },
    });
    for (const certificate of [forged, selfSigned]) {
      const via = client({ certificate: certificate.pem, key: certificate.privateKey });
      for (const [method, path] of [
        ['GET', '/device/v1/whoami'],
        ['GET', '/device/v1/tenant-anchors'],
      ] as const) {
        const response = await via.call(method, path);
        assert.equal(response.status, 401, `${path}: ${JSON.stringify(response.body)}`);
        assert.match(String(response.body['code']), /^CERT_/);
      }
      const challenge = await via.call('POST', '/device/v1/attestation/challenge', {
        deviceId: good.deviceId,
      });
      const nonce = challenge.body['nonce'] as string;
      const attempt = await via.call('POST', '/device/v1/attestation', {
        deviceId: good.deviceId,
        nonce,
        evidence: good.evidence(nonce, clock),
      });
      assert.match(String(attempt.body['code']), /^CERT_/);
    }
  });

  it('refuses a tenant-B device presenting its own CA as an intermediate to tenant A’s anchors', async () => {
    const tenantBCa = createTestTenantCa();
    const leaf = issueTestDeviceCertificate({
      ca: tenantBCa,
      tenantId: fixture.tenants.A,
      deviceId: good.deviceId,
    });
    const via = client({ certificate: leaf.pem + tenantBCa.pem, key: leaf.privateKey });
    const response = await via.call('GET', '/device/v1/whoami');
    assert.deepEqual([response.status, response.body['code']], [401, 'CERT_UNKNOWN_ISSUER']);
  });

  it('gives tenant A’s device a certificate that tenant B’s anchors refuse', async () => {
    good.reboot();
    const { response } = await attestOnce(good);
    const der = new Uint8Array(Buffer.from(response.body['certificate'] as string, 'base64'));
    const tenantB = await pki.tenantCa(fixture.tenants.B);
    assert.equal(
      opensslVerifyCertificate({
        anchors: [tenantB.certificate.der],
        leaf: der,
        purpose: 'sslclient',
        at: clock,
      }).verified,
      false,
    );
  });

  it('answers malformed, unknown-field, wrong-type and oversized device requests with a code, never 500', async () => {
    const via = client();
    for (const [path, body] of [
      ['/device/v1/attestation/challenge', { deviceId: good.deviceId, extra: 1 }],
      ['/device/v1/attestation/challenge', { deviceId: good.deviceId.toUpperCase() }],
      ['/device/v1/attestation', { deviceId: good.deviceId, nonce: 7, evidence: 'x' }],
      ['/device/v1/attestation', []],
    ] as const) {
      const response = await via.call('POST', path, body);
      assert.deepEqual(
        [response.status, response.body['code']],
        [400, 'REQUEST_INVALID'],
        `${path} ${JSON.stringify(body)}`,
      );
    }
    const oversized = await via.call('POST', '/device/v1/attestation/challenge', {
      deviceId: 'a'.repeat(100_000),
    });
    assert.deepEqual([oversized.status, oversized.body['code']], [413, 'REQUEST_TOO_LARGE']);
  });

  /** The spare device, freshly booted and attested, on an mTLS connection that whoami accepted. */
  async function connectedSpare() {
    spare.reboot();
    const { response } = await attestOnce(spare);
    const tls = {
      certificate: toPem(Buffer.from(response.body['certificate'] as string, 'base64')),
      key: spare.certificateKey,
    };
    const mtls = client(tls);
    assert.equal((await mtls.call('GET', '/device/v1/whoami')).status, 200);
    return { tls, mtls };
  }

  /** Disables (or enables) the spare device through the API, as its tenant's Administrator. */
  async function setSpareDisabled(disabled: boolean): Promise<void> {
    const verb = disabled ? 'disable' : 'enable';
    const answer = await fixture.call(
      'POST',
      `/api/v1/tenants/${fixture.tenants.A}/devices/${spare.deviceId}/${verb}`,
      fixture.tokens['A-Administrator'],
    );
    assert.equal(answer.body['disabled'], disabled);
  }

  it('closes a disabled device’s open connection at once, so a device that stops asking keeps nothing open', async () => {
    const { mtls } = await connectedSpare();
    assert.ok(connections.deviceIds().includes(spare.deviceId));
    const closed = mtls.connectionClosed();
    await setSpareDisabled(true);
    await closed;
    assert.ok(!connections.deviceIds().includes(spare.deviceId));
    await setSpareDisabled(false);
  });

  it('closes the connection of a device another replica quarantined, at the next sweep', async () => {
    const { mtls } = await connectedSpare();
    assert.equal(await connections.sweep(context.db), 0);
    const closed = mtls.connectionClosed();
    const key = { tenantId: fixture.tenants.A, deviceId: spare.deviceId };
    // Another replica's change: straight to the database, no call into this process.
    await setDeviceQuarantined(context.db, key, true);
    try {
      assert.equal(await connections.sweep(context.db), 1);
      await closed;
      assert.equal((await mtls.call('GET', '/device/v1/whoami')).body['code'], 'DEVICE_QUARANTINED');
    } finally {
      await setDeviceQuarantined(context.db, key, false);
    }
  });

  it('refuses a disabled device’s certificate on every route when it connects again', async () => {
    const { tls, mtls } = await connectedSpare();
    const closed = mtls.connectionClosed();
    await setSpareDisabled(true);
    await closed;
    const again = client(tls);
    for (const path of ['/device/v1/whoami', '/device/v1/tenant-anchors']) {
      assert.equal((await again.call('GET', path)).body['code'], 'DEVICE_DISABLED', path);
    }
    await setSpareDisabled(false);
  });
});

function publicKeyJwk(key: ReturnType<typeof generateKeyPairSync>['privateKey']) {
  const { x, y } = key.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x, y };
}
