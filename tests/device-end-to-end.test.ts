import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner } from '@orbis/crypto';
import {
  createServiceClient,
  manufactureDevice,
  openEmulatedRootOfTrust,
  osReleaseKeysOf,
  readDeviceManifest,
  secureBoot,
  readHeldCertificate,
  runDevice,
  type AgentEvent,
  type BootReport,
  type DeviceTrustAnchors,
} from '@orbis/device';
import type { BootStage } from '../packages/device/src/boot/stages.ts';
import { flipByte, osReleaseSigner, packStageImage } from '../packages/device/src/boot/boot.test-helpers.ts';
import type { RunningService } from '@orbis/service';
import { startLabService } from '../packages/cli/src/lab.test-helpers.ts';

/*
 * The device runtime against a running security service (issue #4): manufacture → import into
 * the registry → claim → boot → attest → certificate, then renewal of one-minute certificates
 * on a device whose clock is moved forward (as faketime would), and the tamper cases that need
 * both sides.
 */

/** The shortest lifetime the service accepts (ORBIS_DEVICE_CERTIFICATE_LIFETIME_SECONDS). */
const CERTIFICATE_LIFETIME_SECONDS = 60;

type Event = AgentEvent | { readonly kind: 'booted'; readonly report: BootReport };

interface Lab {
  readonly service: RunningService;
  readonly token: string;
  readonly tenantId: string;
  readonly manufacturerId: string;
  readonly manufacturerKey: ReturnType<typeof generateSoftwareSigner>['signer'];
  readonly anchors: DeviceTrustAnchors;
  readonly images: Record<BootStage, Uint8Array>;
  call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function startLab(dir: string): Promise<Lab> {
  const {
    service,
    operatorToken,
    call: callAs,
  } = await startLabService(dir, {
    ORBIS_DEVICE_CERTIFICATE_LIFETIME_SECONDS: String(CERTIFICATE_LIFETIME_SECONDS),
  });
  const call = (method: string, path: string, body?: unknown) => callAs(method, path, operatorToken, body);
  const tenantId = (await call('POST', '/api/v1/tenants', { name: 'Devices Inc' }))['id'] as string;
  const manufacturerKey = generateSoftwareSigner().signer;
  const manufacturerId = (
    await call('POST', '/api/v1/manufacturers', {
      name: 'Silicon Co',
      publicKey: encodeBase64Url(manufacturerKey.publicKey.spki),
    })
  )['id'] as string;
  // The platform operator's OS release: the images devices ship with, registered as reference values.
  const images = {
    bootloader: await packStageImage('bootloader'),
    'security-monitor': await packStageImage('security-monitor'),
    os: await packStageImage('os'),
  };
  const { stages } = await readReleaseStages(images);
  const release = await call('POST', '/api/v1/os-releases', { version: '26.11.0', stages });
  assert.equal(release['version'], '26.11.0', JSON.stringify(release));
  const capabilityKey = (await service.keyStore.getSigner('capability')).publicKey;
  return {
    service,
    token: operatorToken,
    tenantId,
    manufacturerId,
    manufacturerKey,
    images,
    call,
    anchors: {
      platformRootPem: service.pki.platformRootPem(),
      osReleaseKeys: [encodeBase64Url(osReleaseSigner.publicKey.spki)],
      capabilityKey: encodeBase64Url(capabilityKey.spki),
    },
  };
}

async function readReleaseStages(images: Record<BootStage, Uint8Array>) {
  const { parseImage } = await import('@orbis/verify');
  return {
    stages: (['bootloader', 'security-monitor', 'os'] as const).map((stage) => {
      const { header } = parseImage(images[stage]);
      return {
        kind: stage,
        componentId: header.componentId,
        version: header.version,
        securityVersion: header.securityVersion,
        sha256: sha256Hex(images[stage]),
        signer: osReleaseSigner.publicKey.keyId,
      };
    }),
  };
}

/** Manufactures a device, imports it with the manufacturer's signed list and claims it. */
async function makeClaimedDevice(lab: Lab, dir: string): Promise<string> {
  const device = await manufactureDevice(dir, {
    trustAnchors: lab.anchors,
    bootImages: lab.images,
    now: Date.now(),
  });
  const list = await signDeviceList(
    {
      formatVersion: 1,
      manufacturerId: lab.manufacturerId,
      listId: randomUUID(),
      issuedAt: Math.floor(Date.now() / 1000),
      devices: [
        { deviceId: device.deviceId, identityKey: encodeBase64Url(device.identitySpki), model: 'devkit' },
      ],
    },
    lab.manufacturerKey,
  );
  await lab.call('POST', `/api/v1/manufacturers/${lab.manufacturerId}/device-lists`, list);
  const claimed = await lab.call('POST', `/api/v1/tenants/${lab.tenantId}/devices/claims`, {
    deviceIds: [device.deviceId],
  });
  assert.equal(claimed['claimed'], 1, JSON.stringify(claimed));
  return device.deviceId;
}

/**
 * Runs a device until `until` says so (or 30 s pass), then shuts it down; returns its events.
 * `onEvent` sees each event first (to move the device's clock, say).
 */
async function runUntil(
  lab: Lab,
  dir: string,
  until: (events: Event[]) => boolean,
  options: { now?: () => number; onEvent?: (event: Event) => void } = {},
): Promise<Event[]> {
  const events: Event[] = [];
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), 30_000);
  const running = runDevice(dir, {
    serviceUrl: lab.service.deviceUrl,
    signal: controller.signal,
    ...(options.now === undefined ? {} : { now: options.now }),
    onEvent: (event) => {
      options.onEvent?.(event);
      events.push(event);
      if (until(events)) controller.abort();
    },
  });
  try {
    await running;
  } finally {
    clearTimeout(deadline);
  }
  return events;
}

const attested = (events: Event[]) =>
  events.filter((event): event is Extract<Event, { kind: 'attested' }> => event.kind === 'attested');
const retries = (events: Event[]) =>
  events.filter((event): event is Extract<Event, { kind: 'retrying' }> => event.kind === 'retrying');

describe('a device against a running service', () => {
  let root = '';
  let lab: Lab;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'orbis-device-e2e-'));
    lab = await startLab(root);
  });

  after(async () => {
    await lab.service.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('is manufactured, imported, claimed, boots, attests and renews before its certificate expires', async () => {
    const dir = join(root, 'device-1');
    const deviceId = await makeClaimedDevice(lab, dir);
    // The device's clock jumps 41 s after its first certificate arrives: past two thirds of the
    // one-minute lifetime, so it renews at once, while the certificate is still valid.
    let offset = 0;
    const events = await runUntil(lab, dir, (seen) => attested(seen).length >= 2, {
      now: () => Date.now() + offset,
      onEvent: (event) => {
        if (event.kind === 'attested' && !event.renewal) offset += 41_000;
      },
    });
    const boot = events.find((event) => event.kind === 'booted');
    assert.ok(boot?.kind === 'booted');
    assert.equal(boot.report.halted, null);
    const [first, renewed] = attested(events);
    assert.ok(first !== undefined && renewed !== undefined, JSON.stringify(events));
    assert.equal(first.renewal, false);
    assert.equal(first.certificate.resultClass, 'trusted');
    // The renewal ran over the first certificate's mTLS connection, before it expired.
    assert.equal(renewed.renewal, true);
    assert.ok(renewed.certificate.receivedAt - offset < first.certificate.notAfter);
    // A new certificate for a new key (X.509 times have whole seconds, so the expiry may match).
    assert.notEqual(renewed.certificate.certificate, first.certificate.certificate);
    assert.ok(renewed.certificate.notAfter >= first.certificate.notAfter);
    const held = await readHeldCertificate(dir);
    assert.equal(held?.certificate, renewed.certificate.certificate);
    const view = await lab.call('GET', `/api/v1/tenants/${lab.tenantId}/devices/${deviceId}`);
    assert.equal((view['certificate'] as { notAfter: number }).notAfter, renewed.certificate.notAfter);
  });

  it('boots the other slot when a flipped byte stops the OS slot, and still attests', async () => {
    const dir = join(root, 'device-2');
    await makeClaimedDevice(lab, dir);
    const osSlot = join(dir, 'flash', 'os', 'a.img');
    await writeFile(osSlot, flipByte(await readFile(osSlot), 200));
    const events = await runUntil(lab, dir, (seen) => attested(seen).length >= 1);
    const boot = events.find((event) => event.kind === 'booted');
    assert.ok(boot?.kind === 'booted');
    const os = boot.report.stages.find((stage) => stage.stage === 'os');
    assert.deepEqual([os?.slot, os?.fellBack, os?.refused[0]?.code], ['b', true, 'BOOT_IMAGE_INVALID']);
    assert.equal(attested(events)[0]?.certificate.resultClass, 'trusted');
  });

  it('is refused for an OS the service does not know, although it is signed and boots', async () => {
    const dir = join(root, 'device-3');
    await makeClaimedDevice(lab, dir);
    // A validly signed OS build that was never registered as a release: the boot log names it.
    const unregistered = await packStageImage('os', { version: '26.11.1' });
    for (const slot of ['a', 'b']) await writeFile(join(dir, 'flash', 'os', `${slot}.img`), unregistered);
    const events = await runUntil(lab, dir, (seen) => retries(seen).length >= 1);
    assert.equal(retries(events)[0]?.code, 'APPRAISAL_MEASUREMENT_UNKNOWN');
    assert.equal(attested(events).length, 0);
  });

  it('refuses evidence whose boot log was edited after the root of trust signed it', async () => {
    const dir = join(root, 'device-6');
    const deviceId = await makeClaimedDevice(lab, dir);
    const manifest = await readDeviceManifest(dir);
    const rot = await openEmulatedRootOfTrust(dir);
    const client = createServiceClient({
      serviceUrl: lab.service.deviceUrl,
      platformRootPem: manifest.trustAnchors.platformRootPem,
    });
    try {
      await rot.beginBoot();
      await secureBoot(dir, rot, { trustedOsKeys: osReleaseKeysOf(manifest.trustAnchors) });
      const { nonce } = await client.post<{ nonce: string }>('/device/v1/attestation/challenge', {
        deviceId,
      });
      const [header, payload, signature] = (
        await rot.createEvidence(nonce, { nowMs: Date.now(), capabilities: [] })
      ).evidence.split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as {
        orbis_boot_log: { sha256: string }[];
      };
      // A compromised OS would claim the measurement of a registered build instead of its own.
      const [entry] = claims.orbis_boot_log;
      assert.ok(entry !== undefined);
      entry.sha256 = 'f'.repeat(64);
      const edited = `${header ?? ''}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature ?? ''}`;
      await assert.rejects(client.post('/device/v1/attestation', { deviceId, nonce, evidence: edited }), {
        code: 'AGENT_ATTESTATION_REFUSED',
        serviceCode: 'ATTESTATION_SIGNATURE_INVALID',
      });
    } finally {
      client.close();
      await rot.close();
    }
  });

  it('catches a device directory copied and run beside the original as a clone (bootcount/bootseed conflict)', async () => {
    const dir = join(root, 'device-4');
    await makeClaimedDevice(lab, dir);
    await runUntil(lab, dir, (seen) => attested(seen).length >= 1);
    const copy = join(root, 'device-4-copy');
    await cp(dir, copy, { recursive: true });
    // The copy boots first: the same next bootcount with its own seed, accepted as a new boot.
    const fromCopy = await runUntil(lab, copy, (seen) => attested(seen).length >= 1);
    assert.equal(attested(fromCopy).length, 1);
    // The original then boots to that same bootcount with another seed: one of them is a clone.
    const fromOriginal = await runUntil(lab, dir, (seen) => retries(seen).length >= 1);
    assert.equal(retries(fromOriginal)[0]?.code, 'APPRAISAL_CLONE_DETECTED');
  });

  it('refuses to run one device directory twice at the same time', async () => {
    const dir = join(root, 'device-5');
    await makeClaimedDevice(lab, dir);
    const controller = new AbortController();
    let booted!: () => void;
    const started = new Promise<void>((resolve) => (booted = resolve));
    const first = runDevice(dir, {
      serviceUrl: lab.service.deviceUrl,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'booted') booted();
      },
    });
    await started;
    await assert.rejects(runDevice(dir, { serviceUrl: lab.service.deviceUrl }), {
      code: 'ROT_DIRECTORY_LOCKED',
    });
    controller.abort();
    await first;
  });
});
