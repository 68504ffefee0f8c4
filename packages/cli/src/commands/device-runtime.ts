import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url } from '@orbis/crypto';
import {
  manufactureDevice,
  runDevice,
  MAX_TUF_ROOT_BYTES,
  type BootStage,
  type DeviceTrustAnchors,
  type RootOfTrustSelection,
  type TpmConnection,
} from '@orbis/device';
import type { DeviceListEntry } from '@orbis/protocol';
import { CliError } from '../errors.ts';
import { loadPublicKey, loadSigner } from '../key-files.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/** Most devices one `orbis device manufacture` makes (a production line runs it in batches). */
export const MAX_MANUFACTURE_COUNT = 10_000;
const STAGES: readonly BootStage[] = ['bootloader', 'security-monitor', 'os'];

export interface ManufactureOptions {
  readonly out: string;
  readonly count: string;
  readonly platformRoot: string;
  readonly osReleaseKey: string[];
  readonly capabilityKey: string;
  readonly imageRepositoryRoot: string;
  readonly directorRoot: string;
  readonly images: string;
  readonly manufacturerKey: string;
  readonly manufacturerId: string;
  readonly model: string;
  readonly rot: string;
  readonly tpm?: string;
  readonly json: boolean;
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `${path} cannot be read`, { cause });
  }
}

/** A TUF root.json as text, bounded; manufacture checks what it says. */
async function readTufRoot(path: string): Promise<string> {
  const bytes = await readInput(path);
  if (bytes.byteLength > MAX_TUF_ROOT_BYTES) {
    throw new CliError('CLI_FILE_TOO_LARGE', `${path} is larger than ${MAX_TUF_ROOT_BYTES} bytes`);
  }
  return new TextDecoder().decode(bytes);
}

async function trustAnchorsFrom(options: ManufactureOptions): Promise<DeviceTrustAnchors> {
  const osReleaseKeys = await Promise.all(options.osReleaseKey.map((path) => loadPublicKey(path)));
  return {
    platformRootPem: new TextDecoder().decode(await readInput(options.platformRoot)),
    osReleaseKeys: osReleaseKeys.map((key) => encodeBase64Url(key.spki)),
    capabilityKey: encodeBase64Url((await loadPublicKey(options.capabilityKey)).spki),
    imageRepositoryRoot: await readTufRoot(options.imageRepositoryRoot),
    directorRoot: await readTufRoot(options.directorRoot),
  };
}

/** `--rot` and `--tpm` as the device runtime takes them. */
function rootOfTrustFrom(options: ManufactureOptions): RootOfTrustSelection {
  if (options.rot === 'emulated') {
    if (options.tpm !== undefined) throw new CliError('CLI_OPTION_INVALID', '--tpm needs --rot tpm');
    return { backend: 'emulated' };
  }
  if (options.rot === 'tpm') return { backend: 'tpm', tpm: tpmConnectionFrom(options.tpm) };
  throw new CliError('CLI_OPTION_INVALID', '--rot must be emulated or tpm');
}

/** A TCTI the device runtime can use: a kernel TPM device or a swtpm on a TCP port. */
function tpmConnectionFrom(tcti: string | undefined): TpmConnection | undefined {
  if (tcti === undefined) return undefined;
  if (!/^(device:\/dev\/tpm(rm)?[0-9]+|swtpm:host=[A-Za-z0-9.:-]+,port=[0-9]{1,5})$/.test(tcti)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--tpm must be a TCTI such as device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321',
    );
  }
  return { tcti };
}

function parseCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > MAX_MANUFACTURE_COUNT) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--count must be a whole number from 1 to ${MAX_MANUFACTURE_COUNT}`,
    );
  }
  return count;
}

/**
 * `orbis device manufacture`: makes `--count` device directories under `--out` (device-0001, …),
 * each with its own root of trust, the trust anchors (the TUF roots among them) and the OS
 * release in both slots, and writes `--out/device-list.json`, the manufacturer's signed list of
 * them for the registry.
 */
export async function manufactureCommand(options: ManufactureOptions, out: Output): Promise<void> {
  const count = parseCount(options.count);
  const trustAnchors = await trustAnchorsFrom(options);
  const images = Object.fromEntries(
    await Promise.all(
      STAGES.map(async (stage) => [stage, await readInput(join(options.images, `${stage}.img`))]),
    ),
  ) as Record<BootStage, Uint8Array>;
  const rootOfTrust = rootOfTrustFrom(options);
  const manufacturer = await loadSigner(options.manufacturerKey);
  const made: { dir: string; deviceId: string; entry: DeviceListEntry }[] = [];
  for (let index = 1; index <= count; index += 1) {
    const dir = join(options.out, `device-${String(index).padStart(4, '0')}`);
    const device = await manufactureDevice(dir, {
      trustAnchors,
      bootImages: images,
      rootOfTrust,
      now: Date.now(),
    });
    const entry: DeviceListEntry = {
      deviceId: device.deviceId,
      identityKey: encodeBase64Url(device.identitySpki),
      model: options.model,
      // A TPM-resident key's public area lets the service check it is restricted (and demand quotes).
      ...(device.tpmPublic === undefined ? {} : { tpmPublic: encodeBase64Url(device.tpmPublic) }),
    };
    made.push({ dir, deviceId: device.deviceId, entry });
    if (!options.json && count > 1) process.stderr.write(`\rmanufactured ${index}/${count}`);
  }
  if (!options.json && count > 1) process.stderr.write('\n');
  const list = await signDeviceList(
    {
      formatVersion: 1,
      manufacturerId: options.manufacturerId,
      listId: randomUUID(),
      issuedAt: Math.floor(Date.now() / 1000),
      devices: made.map(({ entry }) => entry),
    },
    manufacturer,
  );
  const listPath = join(options.out, 'device-list.json');
  try {
    await writeFile(listPath, `${JSON.stringify(list, null, 2)}\n`, { flag: 'wx' });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${listPath} cannot be written (it may exist already)`, { cause });
  }
  if (options.json) {
    printJson(out, { deviceList: listPath, devices: made.map(({ dir, deviceId }) => ({ dir, deviceId })) });
    return;
  }
  out.write(
    formatTable(
      ['device', 'directory'],
      made.map(({ dir, deviceId }) => [deviceId, dir]),
    ),
  );
  out.write(`signed list for the registry: ${listPath}\n`);
}

export interface RunOptions {
  readonly service: string;
  readonly tpm?: string;
  readonly json: boolean;
}

/** `orbis device run DIR`: boots the device and keeps its certificate fresh until interrupted. */
export async function runCommand(dir: string, options: RunOptions, out: Output): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runDevice(dir, {
      serviceUrl: options.service,
      tpm: tpmConnectionFrom(options.tpm),
      signal: controller.signal,
      onEvent: (event) => {
        if (options.json) {
          printJson(out, event.kind === 'booted' ? { kind: 'booted', halted: event.report.halted } : event);
          return;
        }
        if (event.kind === 'booted') {
          const fellBack = event.report.stages.filter((stage) => stage.fellBack).map((stage) => stage.stage);
          out.write(
            `booted (bootcount ${event.report.bootcount}${fellBack.length > 0 ? `; fell back: ${fellBack.join(', ')}` : ''})\n`,
          );
        } else if (event.kind === 'attested') {
          const { resultClass, notAfter } = event.certificate;
          out.write(
            `${event.renewal ? 'renewed' : 'attested'}: ${resultClass} certificate until ${new Date(notAfter).toISOString()}\n`,
          );
        } else if (event.kind === 'retrying') {
          out.write(
            `attestation failed (${event.code}); retrying in ${(event.delayMs / 1000).toFixed(1)} s\n`,
          );
        } else {
          out.write(`next renewal at ${new Date(event.at).toISOString()}\n`);
        }
      },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
