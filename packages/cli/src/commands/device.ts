import { readFile } from 'node:fs/promises';
import { isDeviceId } from '@orbis/crypto';
import { createApiClient, type ApiConnection } from '../api-client.ts';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/** `orbis device claim | list | disable | enable`: a tenant's devices, over the service API. */
export interface TenantCommandOptions extends ApiConnection {
  readonly tenant: string;
  readonly json: boolean;
}

/** Claims go in batches no larger than the API accepts; each batch is all or nothing. */
export const CLAIM_BATCH = 1000;

async function readDeviceIds(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${file}`, { cause });
  }
  const ids = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const bad = ids.findIndex((id) => !isDeviceId(id));
  if (bad >= 0) throw new CliError('CLI_DEVICE_ID_INVALID', `${file}: line ${bad + 1} is not a device ID`);
  return [...new Set(ids)];
}

export async function claimCommand(
  options: TenantCommandOptions & { readonly device?: string; readonly file?: string },
  out: Output,
): Promise<void> {
  const ids = options.file === undefined ? [] : await readDeviceIds(options.file);
  if (options.device !== undefined) {
    if (!isDeviceId(options.device))
      throw new CliError('CLI_DEVICE_ID_INVALID', `${options.device} is not a device ID`);
    ids.push(options.device);
  }
  if (ids.length === 0) throw new CliError('CLI_DEVICE_ID_INVALID', 'give --device ID or --file FILE');
  const client = await createApiClient(options);
  let claimed = 0;
  for (let start = 0; start < ids.length; start += CLAIM_BATCH) {
    const batch = ids.slice(start, start + CLAIM_BATCH);
    const result = await client.call<{ claimed: number }>(
      'POST',
      `/api/v1/tenants/${options.tenant}/devices/claims`,
      {
        deviceIds: batch,
      },
    );
    claimed += result.claimed;
    // Progress for people on long lists; scripts get one JSON document at the end.
    if (!options.json && ids.length > CLAIM_BATCH)
      process.stderr.write(`claimed ${claimed} of ${ids.length}\n`);
  }
  if (options.json) printJson(out, { claimed });
  else out.write(`claimed ${claimed} device${claimed === 1 ? '' : 's'}\n`);
}

interface DeviceRow {
  deviceId: string;
  model: string;
  disabled: boolean;
  quarantined: boolean;
  groupId: string | null;
  lastAttestedAt: number | null;
  certificate: { resultClass: string; notAfter: number } | null;
}

/** The certificate column: its class and expiry, or why there is none. */
function certificateCell(device: DeviceRow): string {
  if (device.certificate === null) return 'none';
  return `${device.certificate.resultClass} until ${new Date(device.certificate.notAfter).toISOString()}`;
}

export async function listCommand(options: TenantCommandOptions, out: Output): Promise<void> {
  const client = await createApiClient(options);
  const devices: DeviceRow[] = [];
  let after: string | undefined;
  for (;;) {
    const query = `?limit=1000${after === undefined ? '' : `&after=${after}`}`;
    const page = await client.call<{ devices: DeviceRow[] }>(
      'GET',
      `/api/v1/tenants/${options.tenant}/devices${query}`,
    );
    devices.push(...page.devices);
    if (page.devices.length < 1000) break;
    after = page.devices.at(-1)?.deviceId;
  }
  if (options.json) {
    printJson(out, { devices });
    return;
  }
  out.write(
    formatTable(
      ['device', 'model', 'state', 'last attested', 'certificate'],
      devices.map((device) => [
        device.deviceId,
        device.model,
        device.quarantined ? 'quarantined' : device.disabled ? 'disabled' : 'enabled',
        device.lastAttestedAt === null ? 'never' : new Date(device.lastAttestedAt).toISOString(),
        certificateCell(device),
      ]),
    ),
  );
}

export async function setEnabledCommand(
  deviceId: string,
  enabled: boolean,
  options: TenantCommandOptions,
  out: Output,
): Promise<void> {
  if (!isDeviceId(deviceId)) throw new CliError('CLI_DEVICE_ID_INVALID', `${deviceId} is not a device ID`);
  const client = await createApiClient(options);
  const verb = enabled ? 'enable' : 'disable';
  const device = await client.call<DeviceRow>(
    'POST',
    `/api/v1/tenants/${options.tenant}/devices/${deviceId}/${verb}`,
  );
  if (options.json) printJson(out, device);
  else out.write(`${deviceId} ${device.disabled ? 'disabled' : 'enabled'}\n`);
}
