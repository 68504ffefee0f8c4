import { readFile, writeFile } from 'node:fs/promises';
import { packImage } from '@orbis/ca';
import { sha256, encodeHex } from '@orbis/crypto';
import {
  compileSchemaCheck,
  ImageHeader,
  MAX_IMAGE_PACKAGE_BYTES,
  MAX_IMAGE_HEADER_BYTES,
} from '@orbis/protocol';
import { parseImage, verifyImage, type ParsedImage } from '@orbis/verify';
import { CliError } from '../errors.ts';
import { loadPublicKey, loadSigner } from '../key-files.ts';
import { formatTable, printJson, type Output } from '../output.ts';

const headerSchema = compileSchemaCheck(ImageHeader);

async function readInput(path: string, maxBytes: number): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}`, { cause });
  }
  if (bytes.byteLength > maxBytes)
    throw new CliError('CLI_FILE_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface PackOptions {
  readonly header: string;
  readonly payload: string;
  readonly key: readonly string[];
  readonly out: string;
  readonly json: boolean;
}

/** `orbis image pack`: header JSON + payload file + signing keys → a signed image package. */
export async function packCommand(options: PackOptions, out: Output): Promise<void> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(await readInput(options.header, MAX_IMAGE_HEADER_BYTES)));
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw new CliError('CLI_HEADER_INVALID', `${options.header} is not JSON`, { cause });
  }
  if (!headerSchema.check(header)) {
    throw new CliError('CLI_HEADER_INVALID', `${options.header}: ${headerSchema.describe(header)}`);
  }
  const payload = await readInput(options.payload, MAX_IMAGE_PACKAGE_BYTES);
  const signers = await Promise.all(options.key.map(loadSigner));
  const image = await packImage({ header, payload, signers });
  try {
    await writeFile(options.out, image, { flag: 'wx' });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${options.out} exists or cannot be written`, { cause });
  }
  const result = { out: options.out, bytes: image.byteLength, sha256: encodeHex(sha256(image)) };
  if (options.json) printJson(out, result);
  else out.write(`wrote ${result.out} (${result.bytes} bytes, sha256 ${result.sha256})\n`);
}

function describeImage(image: Uint8Array, parsed: ParsedImage) {
  return {
    ...parsed.header,
    formatVersion: parsed.formatVersion,
    payloadBytes: parsed.payload.byteLength,
    packageBytes: image.byteLength,
    sha256: encodeHex(sha256(image)),
    signers: parsed.signatures.map((signature) => signature.keyId),
  };
}

function printImage(
  out: Output,
  description: ReturnType<typeof describeImage>,
  extra: [string, string][] = [],
): void {
  const { signers, ...fields } = description;
  const rows = Object.entries(fields).map(([name, value]) => [name, String(value)]);
  rows.push(...signers.map((keyId, index) => [`signer ${index + 1}`, keyId]), ...extra);
  out.write(formatTable(['field', 'value'], rows));
}

/** `orbis image inspect`: the structure of a package, checked strictly; no signature is trusted. */
export async function inspectCommand(path: string, options: { json: boolean }, out: Output): Promise<void> {
  const image = await readInput(path, MAX_IMAGE_PACKAGE_BYTES);
  const description = describeImage(image, parseImage(image));
  if (options.json) printJson(out, { ...description, verified: false });
  else
    printImage(out, description, [
      ['verified', 'no (inspect checks structure only; use `orbis image verify`)'],
    ]);
}

/** `orbis image verify`: structure, then every signature against the keys given. */
export async function verifyCommand(
  path: string,
  options: { key: readonly string[]; json: boolean },
  out: Output,
): Promise<void> {
  const image = await readInput(path, MAX_IMAGE_PACKAGE_BYTES);
  const trustedKeys = await Promise.all(options.key.map(loadPublicKey));
  verifyImage(image, { trustedKeys });
  const description = describeImage(image, parseImage(image));
  if (options.json) printJson(out, { ...description, verified: true });
  else printImage(out, description, [['verified', 'yes: every signature is by a given key and verifies']]);
}
