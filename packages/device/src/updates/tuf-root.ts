import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { AgentError } from '../errors.ts';

/**
 * The TUF roots a device is made with (ARCHITECTURE.md, "Security renewal"): the image
 * repository's and the director's root.json. TUF 5.2 has the client start from a root shipped
 * out of band; manufacture is that band, so it checks each root as the device's update client
 * (tuf-js, on @tufjs/models) will load it, and refuses one the device could never start from.
 * Pure: no I/O, the time is passed in.
 */

/** The largest root.json manufacture accepts; one with four P-256 keys is about 2.5 KiB. */
export const MAX_TUF_ROOT_BYTES = 64 * 1024;

function invalid(reason: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_TUF_ROOT_INVALID', reason, { cause });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Strict JSON text → an object whose `signed._type` is "root"; the models parse the rest. */
function parseRootJson(text: string, name: string): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > MAX_TUF_ROOT_BYTES) {
    throw invalid(`${name} is larger than ${MAX_TUF_ROOT_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid(`${name} is not JSON`, cause);
  }
  if (!isRecord(json) || !isRecord(json['signed']) || json['signed']['_type'] !== 'root') {
    throw invalid(`${name} is not TUF root metadata (signed._type is not "root")`);
  }
  return json;
}

/**
 * A root.json a device can start from at `now`, parsed: TUF root metadata of specification 1.x,
 * version 1 or later, not expired, and signed by a threshold of its own root role's keys; every
 * top-level role's threshold can be met by the keys it names. AGENT_TUF_ROOT_INVALID otherwise;
 * `name` says which root in the message.
 */
export function verifyTufRoot(
  text: string,
  options: { readonly now: number; readonly name: string },
): Metadata<Root> {
  const { now, name } = options;
  const json = parseRootJson(text, name);
  let metadata: Metadata<Root>;
  try {
    metadata = Metadata.fromJSON(MetadataKind.Root, json as Parameters<typeof Metadata.fromJSON>[1]);
  } catch (cause) {
    throw invalid(`${name} is not well-formed TUF root metadata`, cause);
  }
  const { signed } = metadata;
  if (!/^1\.\d+(\.\d+)?$/.test(signed.specVersion)) {
    throw invalid(`${name} is of TUF specification ${signed.specVersion}, not 1.x`);
  }
  if (!Number.isSafeInteger(signed.version) || signed.version < 1) {
    throw invalid(`${name} has version ${signed.version}; versions start at 1`);
  }
  // TUF 5.3.10 (freeze attack): the client refuses an expired root; a factory should not ship one.
  if (signed.isExpired(new Date(now))) throw invalid(`${name} expired at ${signed.expires}`);
  // TUF 5.3.4 (arbitrary software attack), for the first root: its own root role's threshold signs it.
  try {
    metadata.verifyDelegate('root', metadata);
  } catch (cause) {
    throw invalid(`${name} is not signed by a threshold of its own root keys`, cause);
  }
  for (const [role, { keyIDs, threshold }] of Object.entries(signed.roles)) {
    if (keyIDs.filter((keyId) => signed.keys[keyId] !== undefined).length < threshold) {
      throw invalid(`${name}: the ${role} role names fewer keys than its threshold of ${threshold}`);
    }
  }
  return metadata;
}

/** Key IDs and public keys of a root, to compare two roots' keys by either. */
function keysOf(root: Metadata<Root>): Set<string> {
  return new Set(
    Object.values(root.signed.keys).flatMap((key) => [key.keyID, (key.keyVal['public'] ?? '').trim()]),
  );
}

/**
 * Both roots of a device, each as verifyTufRoot checks it, and with no key in common: the
 * image repository and the director are separate trust domains (Uptane), and a director root
 * given for both would collapse them into one.
 */
export function verifyTufRootPair(
  roots: { readonly imageRepositoryRoot: string; readonly directorRoot: string },
  now: number,
): void {
  const image = verifyTufRoot(roots.imageRepositoryRoot, { now, name: "the image repository's root" });
  const director = verifyTufRoot(roots.directorRoot, { now, name: "the director's root" });
  const directorKeys = keysOf(director);
  if ([...keysOf(image)].some((key) => key !== '' && directorKeys.has(key))) {
    throw invalid("the image repository's and the director's roots share a key: each needs keys of its own");
  }
}
