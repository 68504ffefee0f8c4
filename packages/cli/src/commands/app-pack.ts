import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeAppPayload, packImage } from '@orbis/ca';
import { encodeHex, sha256 } from '@orbis/crypto';
import {
  compileSchemaCheck,
  MAX_IMAGE_PAYLOAD_BYTES,
  SecurityVersion,
  TenantId,
  Version,
  type AppImageHeader,
} from '@orbis/protocol';
import { CliError } from '../errors.ts';
import { loadSigner } from '../key-files.ts';
import { formatTable, printJson, type Output } from '../output.ts';
import { loadAppManifest, readBounded } from './app-files.ts';

export interface AppPackOptions {
  readonly key: string;
  readonly out: string;
  readonly tenant?: string | undefined;
  readonly version: string;
  readonly securityVersion: string;
  readonly json: boolean;
}

/** Security versions are unsigned 32-bit integers (packages/protocol, ids.ts). */
const MAX_SECURITY_VERSION = 0xffff_ffff;
const versionSchema = compileSchemaCheck(Version);
const securityVersionSchema = compileSchemaCheck(SecurityVersion);
const tenantSchema = compileSchemaCheck(TenantId);

function headerFields(options: AppPackOptions) {
  // The signed header names the tenant whose app this is. DeviceAuthentication names the tenant
  // whose device certificate the app may use: another question, so it is never taken for this.
  const tenantId = options.tenant;
  if (tenantId === undefined) {
    throw new CliError('CLI_USAGE_INVALID', 'the app needs a tenant: give --tenant ID');
  }
  // The checks narrow what they check, so messages quote a copy.
  const given = { tenant: tenantId, version: options.version };
  if (!tenantSchema.check(tenantId)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--tenant ${given.tenant} is not a tenant ID (a lowercase UUID)`,
    );
  }
  if (!versionSchema.check(options.version)) {
    throw new CliError('CLI_OPTION_INVALID', `--version ${given.version} is not MAJOR.MINOR.PATCH[-tag]`);
  }
  const securityVersion = /^(0|[1-9][0-9]*)$/.test(options.securityVersion)
    ? Number(options.securityVersion)
    : -1;
  if (!securityVersionSchema.check(securityVersion)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--security-version ${options.securityVersion} is not an integer from 0 to ${MAX_SECURITY_VERSION}`,
    );
  }
  return { tenantId, version: options.version, securityVersion };
}

/**
 * `orbis app pack [DIR]`: validates the manifest again (the device's installer would refuse a
 * bad one, with the same APP_MANIFEST_* code), puts it and the bundle built by `orbis app build`
 * into an app payload (docs/formats/app-package.md) and signs that as an image package of kind
 * `app` with the developer key.
 */
export async function packAppCommand(target: string, options: AppPackOptions, out: Output): Promise<void> {
  const dir = resolve(target);
  const manifest = await loadAppManifest(dir);
  const fields = headerFields(options);
  const bundlePath = join(dir, 'dist', manifest.EntryPoint);
  const bundle = await readBounded(bundlePath, MAX_IMAGE_PAYLOAD_BYTES).catch((error: unknown) => {
    if (error instanceof CliError && error.code === 'CLI_FILE_UNREADABLE') {
      throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${bundlePath}: run \`orbis app build\` first`, {
        cause: error,
      });
    }
    throw error;
  });
  const payload = encodeAppPayload({ manifest, files: new Map([[manifest.EntryPoint, bundle]]) });
  const header: AppImageHeader = {
    kind: 'app',
    componentId: manifest.ComponentId,
    imageId: randomUUID(),
    name: manifest.Name,
    ...fields,
  };
  const signer = await loadSigner(options.key);
  const image = await packImage({ header, payload, signers: [signer] });
  try {
    await writeFile(options.out, image, { flag: 'wx' });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${options.out} exists or cannot be written`, { cause });
  }
  const result = {
    out: options.out,
    bytes: image.byteLength,
    sha256: encodeHex(sha256(image)),
    ...header,
    entryPoint: manifest.EntryPoint,
    bundleBytes: bundle.byteLength,
    signer: signer.publicKey.keyId,
  };
  if (options.json) printJson(out, result);
  else
    out.write(
      formatTable(
        ['field', 'value'],
        Object.entries(result).map(([field, value]) => [field, String(value)]),
      ),
    );
}
