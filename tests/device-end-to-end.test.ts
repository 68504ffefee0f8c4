import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner } from '@orbis/crypto';
import {
  createServiceClient,
  manufactureDevice,
  openEmulatedRootOfTrust,
  openTpmRootOfTrust,
  startSwtpm,
  type RootOfTrust,
  type RootOfTrustSelection,
  type TpmConnection,
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
import { tpm2 } from '../packages/device/src/rot/tpm/tpm2-tools.ts';
import type { DeviceListEntry } from '@orbis/protocol';
import { flipByte, osReleaseSigner, packStageImage } from '../packages/device/src/boot/boot.test-helpers.ts';
import type { RunningService } from '@orbis/service';
import { startLabService } from '../packages/cli/src/lab.test-helpers.ts';

/*
 * The device runtime against a running security service (issue #4): manufacture → import into
 * the registry → claim → boot → attest → certificate, then renewal of one-minute certificates
 * on a device whose clock is moved forward (as faketime would), and the tamper cases that need
 * both sides. The same suite runs for the emulated root of trust and for the TPM 2.0 backend on
 * a real swtpm, which adds the TPM's own refusals: a quote over a stale nonce, evidence without
 * its quote, an unrestricted identity key, and a directory moved to another TPM.
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
      imageRepositoryRoot: service.tufRoots().imageRepository,
      directorRoot: service.tufRoots().director,
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

/** The manufacturer's signed list of `devices`, as the registry imports it. */
function signedList(lab: Lab, devices: DeviceListEntry[]) {
  return signDeviceList(
    {
      formatVersion: 1,
      manufacturerId: lab.manufacturerId,
      listId: randomUUID(),
      issuedAt: Math.floor(Date.now() / 1000),
      devices,
    },
    lab.manufacturerKey,
  );
}

/** Manufactures a device, imports it with the manufacturer's signed list and claims it. */
async function makeClaimedDevice(lab: Lab, dir: string, rot: Rot): Promise<string> {
  const device = await manufactureDevice(dir, {
    trustAnchors: lab.anchors,
    bootImages: lab.images,
    rootOfTrust: rot.selection,
    now: Date.now(),
  });
  const list = await signedList(lab, [
    {
      deviceId: device.deviceId,
      identityKey: encodeBase64Url(device.identitySpki),
      model: 'devkit',
      ...(device.tpmPublic === undefined ? {} : { tpmPublic: encodeBase64Url(device.tpmPublic) }),
    },
  ]);
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
  rot: Rot,
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
    tpm: rot.tpm,
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

/**
 * A P-256 signing key in the TPM with everything an identity key has except `restricted`: it
 * would sign any digest, a forged TPMS_ATTEST included. Returns its SPKI and TPM2B_PUBLIC.
 */
async function createUnrestrictedTpmKey(tpm: TpmConnection, dir: string) {
  await mkdir(dir, { recursive: true });
  await tpm2(
    'tpm2_createprimary',
    ['-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', 'primary.ctx'],
    tpm,
    dir,
  );
  await tpm2(
    'tpm2_create',
    [
      '-C',
      'primary.ctx',
      '-G',
      'ecc256:ecdsa-sha256:null',
      '-a',
      'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign',
      '-u',
      'key.pub',
      '-r',
      'key.priv',
      '-c',
      'key.ctx',
    ],
    tpm,
    dir,
  );
  await tpm2('tpm2_readpublic', ['-c', 'key.ctx', '-f', 'der', '-o', 'key.der'], tpm, dir);
  return {
    spki: new Uint8Array(await readFile(join(dir, 'key.der'))),
    tpmPublic: new Uint8Array(await readFile(join(dir, 'key.pub'))),
  };
}

/**
 * The root of trust the devices of one suite are made with. The TPM suite starts one swtpm on
 * free ports for all its devices (each device's counters have their own NV indices) and stops it
 * afterwards; its devices are made on that TPM and run against it.
 */
interface Rot {
  readonly backend: 'emulated' | 'tpm';
  readonly selection: RootOfTrustSelection;
  readonly tpm: TpmConnection | undefined;
  open(dir: string): Promise<RootOfTrust>;
}

async function startRot(backend: 'emulated' | 'tpm', root: string): Promise<Rot & { stop(): Promise<void> }> {
  if (backend === 'emulated') {
    return {
      backend,
      selection: { backend },
      tpm: undefined,
      open: (dir) => openEmulatedRootOfTrust(dir),
      stop: () => Promise.resolve(),
    };
  }
  const swtpm = await startSwtpm(join(root, 'swtpm'));
  return {
    backend,
    selection: { backend, tpm: swtpm },
    tpm: swtpm,
    open: (dir) => openTpmRootOfTrust(dir, { tpm: swtpm }),
    stop: () => swtpm.stop(),
  };
}

for (const backend of ['emulated', 'tpm'] as const) {
  describe(`a device with the ${backend} root of trust against a running service`, () => {
    let root = '';
    let lab: Lab;
    let rot: Rot & { stop(): Promise<void> };

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'orbis-device-e2e-'));
      lab = await startLab(root);
      rot = await startRot(backend, root);
    });

    after(async () => {
      await rot.stop();
      await lab.service.stop();
      await rm(root, { recursive: true, force: true });
    });

    it('is manufactured, imported, claimed, boots, attests and renews before its certificate expires', async () => {
      const dir = join(root, 'device-1');
      const deviceId = await makeClaimedDevice(lab, dir, rot);
      // The device's clock jumps 41 s after its first certificate arrives: past two thirds of the
      // one-minute lifetime, so it renews at once, while the certificate is still valid.
      let offset = 0;
      const events = await runUntil(lab, rot, dir, (seen) => attested(seen).length >= 2, {
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
      await makeClaimedDevice(lab, dir, rot);
      const osSlot = join(dir, 'flash', 'os', 'a.img');
      await writeFile(osSlot, flipByte(await readFile(osSlot), 200));
      const events = await runUntil(lab, rot, dir, (seen) => attested(seen).length >= 1);
      const boot = events.find((event) => event.kind === 'booted');
      assert.ok(boot?.kind === 'booted');
      const os = boot.report.stages.find((stage) => stage.stage === 'os');
      assert.deepEqual([os?.slot, os?.fellBack, os?.refused[0]?.code], ['b', true, 'BOOT_IMAGE_INVALID']);
      assert.equal(attested(events)[0]?.certificate.resultClass, 'trusted');
    });

    it('is refused for an OS the service does not know, although it is signed and boots', async () => {
      const dir = join(root, 'device-3');
      await makeClaimedDevice(lab, dir, rot);
      // A validly signed OS build that was never registered as a release: the boot log names it.
      const unregistered = await packStageImage('os', { version: '26.11.1' });
      for (const slot of ['a', 'b']) await writeFile(join(dir, 'flash', 'os', `${slot}.img`), unregistered);
      const events = await runUntil(lab, rot, dir, (seen) => retries(seen).length >= 1);
      assert.equal(retries(events)[0]?.code, 'APPRAISAL_MEASUREMENT_UNKNOWN');
      assert.equal(attested(events).length, 0);
    });

    it('refuses evidence whose boot log was edited after the root of trust signed it', async () => {
      const dir = join(root, 'device-6');
      const deviceId = await makeClaimedDevice(lab, dir, rot);
      const manifest = await readDeviceManifest(dir);
      const device = await rot.open(dir);
      const client = createServiceClient({
        serviceUrl: lab.service.deviceUrl,
        platformRootPem: manifest.trustAnchors.platformRootPem,
      });
      try {
        await device.beginBoot();
        await secureBoot(dir, device, { trustedOsKeys: osReleaseKeysOf(manifest.trustAnchors) });
        const { nonce } = await client.post<{ nonce: string }>('/device/v1/attestation/challenge', {
          deviceId,
        });
        const envelope = await device.createEvidence(nonce, { nowMs: Date.now(), capabilities: [] });
        const [header, payload, signature] = envelope.evidence.split('.');
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as {
          orbis_boot_log: { sha256: string }[];
        };
        // A compromised OS would claim the measurement of a registered build instead of its own.
        const [entry] = claims.orbis_boot_log;
        assert.ok(entry !== undefined);
        entry.sha256 = 'f'.repeat(64);
        const edited = `${header ?? ''}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature ?? ''}`;
        await assert.rejects(
          client.post('/device/v1/attestation', { deviceId, nonce, ...envelope, evidence: edited }),
          {
            code: 'AGENT_ATTESTATION_REFUSED',
            serviceCode: 'ATTESTATION_SIGNATURE_INVALID',
          },
        );
      } finally {
        client.close();
        await device.close();
      }
    });

    if (backend === 'emulated') {
      it('catches a device directory copied and run beside the original as a clone (bootcount/bootseed conflict)', async () => {
        const dir = join(root, 'device-4');
        await makeClaimedDevice(lab, dir, rot);
        await runUntil(lab, rot, dir, (seen) => attested(seen).length >= 1);
        const copy = join(root, 'device-4-copy');
        await cp(dir, copy, { recursive: true });
        // The copy boots first: the same next bootcount with its own seed, accepted as a new boot.
        const fromCopy = await runUntil(lab, rot, copy, (seen) => attested(seen).length >= 1);
        assert.equal(attested(fromCopy).length, 1);
        // The original then boots to that same bootcount with another seed: one of them is a clone.
        const fromOriginal = await runUntil(lab, rot, dir, (seen) => retries(seen).length >= 1);
        assert.equal(retries(fromOriginal)[0]?.code, 'APPRAISAL_CLONE_DETECTED');
      });
    } else {
      it('cannot run a device directory moved to a fresh swtpm: its keys load only in the TPM that made them', async () => {
        const dir = join(root, 'device-4');
        await makeClaimedDevice(lab, dir, rot);
        await runUntil(lab, rot, dir, (seen) => attested(seen).length >= 1);
        const moved = join(root, 'device-4-moved');
        await cp(dir, moved, { recursive: true });
        const fresh = await startSwtpm(join(root, 'fresh-swtpm'));
        try {
          await assert.rejects(runDevice(moved, { serviceUrl: lab.service.deviceUrl, tpm: fresh }), {
            code: 'ROT_TPM_KEY_UNLOADABLE',
          });
        } finally {
          await fresh.stop();
        }
      });

      it('refuses a TPM quote over a stale nonce, and evidence without a quote (a downgrade)', async () => {
        const dir = join(root, 'device-7');
        const deviceId = await makeClaimedDevice(lab, dir, rot);
        const manifest = await readDeviceManifest(dir);
        const device = await rot.open(dir);
        const client = createServiceClient({
          serviceUrl: lab.service.deviceUrl,
          platformRootPem: manifest.trustAnchors.platformRootPem,
        });
        const challenge = async () =>
          (await client.post<{ nonce: string }>('/device/v1/attestation/challenge', { deviceId })).nonce;
        try {
          await device.beginBoot();
          await secureBoot(dir, device, { trustedOsKeys: osReleaseKeysOf(manifest.trustAnchors) });
          const staleNonce = await challenge();
          const stale = await device.createEvidence(staleNonce, { nowMs: Date.now(), capabilities: [] });
          const nonce = await challenge();
          const current = await device.createEvidence(nonce, { nowMs: Date.now(), capabilities: [] });
          assert.ok(stale.tpmQuote !== undefined && current.tpmQuote !== undefined);
          // Fresh evidence with the quote of an earlier challenge: the quote does not bind this nonce.
          await assert.rejects(
            client.post('/device/v1/attestation', {
              deviceId,
              nonce,
              evidence: current.evidence,
              tpmQuote: stale.tpmQuote,
            }),
            { code: 'AGENT_ATTESTATION_REFUSED', serviceCode: 'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH' },
          );
          // The EAT alone, as if the device had no TPM: refused for a device registered with one.
          await assert.rejects(
            client.post('/device/v1/attestation', { deviceId, nonce, evidence: current.evidence }),
            { code: 'AGENT_ATTESTATION_REFUSED', serviceCode: 'ATTESTATION_TPM_QUOTE_MISSING' },
          );
          // The whole envelope of this challenge still attests: the refusals used nothing up.
          const reply = await client.post<{ resultClass: string }>('/device/v1/attestation', {
            deviceId,
            nonce,
            ...current,
          });
          assert.equal(reply.resultClass, 'trusted');
        } finally {
          client.close();
          await device.close();
        }
      });

      it('refuses a TPM identity key that is not restricted, so nothing it signs (quote or EAT) is ever admitted', async () => {
        const unrestricted = await createUnrestrictedTpmKey(
          rot.tpm as TpmConnection,
          join(root, 'unrestricted'),
        );
        const deviceId = sha256Hex(unrestricted.spki);
        const list = await signedList(lab, [
          {
            deviceId,
            identityKey: encodeBase64Url(unrestricted.spki),
            model: 'devkit',
            tpmPublic: encodeBase64Url(unrestricted.tpmPublic),
          },
        ]);
        const refused = await lab.call(
          'POST',
          `/api/v1/manufacturers/${lab.manufacturerId}/device-lists`,
          list,
        );
        assert.equal(refused['code'], 'REGISTRY_TPM_KEY_NOT_RESTRICTED', JSON.stringify(refused));
        const devices = await lab.call('GET', `/api/v1/tenants/${lab.tenantId}/devices`);
        assert.ok(!JSON.stringify(devices).includes(deviceId));
      });
    }

    it('refuses to run one device directory twice at the same time', async () => {
      const dir = join(root, 'device-5');
      await makeClaimedDevice(lab, dir, rot);
      const controller = new AbortController();
      let booted!: () => void;
      const started = new Promise<void>((resolve) => (booted = resolve));
      const first = runDevice(dir, {
        serviceUrl: lab.service.deviceUrl,
        signal: controller.signal,
        tpm: rot.tpm,
        onEvent: (event) => {
          if (event.kind === 'booted') booted();
        },
      });
      await started;
      await assert.rejects(runDevice(dir, { serviceUrl: lab.service.deviceUrl, tpm: rot.tpm }), {
        code: 'ROT_DIRECTORY_LOCKED',
      });
      controller.abort();
      await first;
    });
  });
}
