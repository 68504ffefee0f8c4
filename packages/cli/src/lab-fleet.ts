import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeBase64Url } from '@orbis/crypto';
import {
  identityKeyOf,
  manufactureDevice,
  readDeviceManifest,
  runDevice,
  type AgentEvent,
  type DeviceManifest,
} from '@orbis/device';
import { OrbisError } from '@orbis/protocol';
import {
  CAPABILITY_KEY_NAME,
  labOsReleaseSigner,
  packLabOsRelease,
  prepareLabFleet,
  type RunningService,
} from '@orbis/service';

/** Devices `orbis start` simulates unless ORBIS_LAB_DEVICES says otherwise. */
export const DEFAULT_LAB_DEVICES = 3;
/** Most devices the lab simulates in one process. */
export const MAX_LAB_DEVICES = 1000;

export interface LabFleet {
  readonly directory: string;
  readonly tenantId: string;
  readonly deviceIds: readonly string[];
  /**
   * Device directories of an earlier lab this version cannot read (an older manifest format),
   * moved aside (renamed, not deleted) and made again.
   */
  readonly setAside: readonly string[];
  /** Devices with a certificate now (attested at least once and not refused since). */
  attested(): number;
  /** Shuts every device down. */
  stop(): Promise<void>;
}

export interface LabFleetOptions {
  readonly count: number;
  /** Told about each device's events (the CLI prints the interesting ones). */
  readonly onEvent?: (
    deviceId: string,
    event: AgentEvent | { kind: 'booted' } | { kind: 'stopped'; code: string },
  ) => void;
}

/**
 * A lab device directory's manifest; a directory this version cannot read is renamed aside
 * (recorded in `setAside`) and undefined is returned, so the lab makes the device again.
 */
async function readLabDevice(dir: string, setAside: string[]): Promise<DeviceManifest | undefined> {
  try {
    return await readDeviceManifest(dir);
  } catch (error) {
    if (!(error instanceof OrbisError) || (error as OrbisError).code !== 'AGENT_DEVICE_DIRECTORY_INVALID') {
      throw error;
    }
    const aside = `${dir}.set-aside-${Date.now()}`;
    await rename(dir, aside);
    setAside.push(aside);
    return undefined;
  }
}

/**
 * The simulated fleet of `orbis start` (ARCHITECTURE.md, Apps and the device OS): device
 * directories under `<data>/lab-fleet/` made once with the lab's OS release and the service's
 * trust anchors, registered and claimed into the lab tenant, then booted and kept attested in
 * this process against the service's device listener, exactly as `orbis device run` does.
 */
export async function startLabFleet(service: RunningService, options: LabFleetOptions): Promise<LabFleet> {
  const directory = join(service.config.dataDir, 'lab-fleet');
  const signer = await labOsReleaseSigner(service.keyStore);
  const images = await packLabOsRelease(signer);
  const capabilityKey = (await service.keyStore.getSigner(CAPABILITY_KEY_NAME)).publicKey;
  const trustAnchors = {
    platformRootPem: service.pki.platformRootPem(),
    osReleaseKeys: [encodeBase64Url(signer.publicKey.spki)],
    capabilityKey: encodeBase64Url(capabilityKey.spki),
    imageRepositoryRoot: service.tufRoots().imageRepository,
    directorRoot: service.tufRoots().director,
  };
  const existing = new Set(await readdir(directory).catch(() => [] as string[]));
  const setAside: string[] = [];
  const devices: { dir: string; deviceId: string; identitySpki: Uint8Array }[] = [];
  for (let index = 1; index <= options.count; index += 1) {
    const name = `device-${String(index).padStart(4, '0')}`;
    const dir = join(directory, name);
    const manifest = existing.has(name) ? await readLabDevice(dir, setAside) : undefined;
    if (manifest !== undefined) {
      devices.push({ dir, deviceId: manifest.deviceId, identitySpki: identityKeyOf(manifest).spki });
    } else {
      const made = await manufactureDevice(dir, { trustAnchors, bootImages: images, now: Date.now() });
      devices.push({ dir, deviceId: made.deviceId, identitySpki: made.identitySpki });
    }
  }
  // Every device, every start: a database that lost them (a new PostgreSQL, say) gets them back.
  const tenantId = await prepareLabFleet(
    service.database.db,
    service.pki,
    { images, signer },
    devices.map(({ deviceId, identitySpki }) => ({ deviceId, identitySpki })),
    Date.now(),
  );
  const controller = new AbortController();
  const holding = new Set<string>();
  const running = devices.map(({ dir, deviceId }) =>
    runDevice(dir, {
      serviceUrl: service.deviceUrl,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'attested') holding.add(deviceId);
        if (event.kind === 'retrying') holding.delete(deviceId);
        options.onEvent?.(deviceId, event.kind === 'booted' ? { kind: 'booted' } : event);
      },
    }).catch((error: unknown) => {
      // A device that cannot run (it halted at boot, its directory is damaged) stops alone.
      const code = error instanceof OrbisError ? (error as OrbisError).code : 'UNEXPECTED';
      options.onEvent?.(deviceId, { kind: 'stopped', code });
    }),
  );
  return {
    directory,
    tenantId,
    setAside,
    deviceIds: devices.map((device) => device.deviceId),
    attested: () => holding.size,
    async stop() {
      controller.abort();
      await Promise.all(running);
    },
  };
}
