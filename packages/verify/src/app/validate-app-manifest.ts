import {
  APP_ENTRY_POINT_PATTERN,
  APP_MANIFEST_SCHEMA_VERSION,
  APP_NAME_PATTERN,
  MAX_APP_FILE_PATH_CHARS,
  MAX_APP_MANIFEST_BYTES,
  MAX_APP_NAME_CHARS,
  UUID_PATTERN,
  type AppCapabilities,
  type AppManifest,
} from '@orbis/protocol';
import { AppError } from '../errors.ts';
import { checkCapabilities, isJsonObject } from './capabilities.ts';
import { pointer, refuse } from './refusal.ts';

const MANIFEST_FIELDS: readonly string[] = [
  'SchemaVersion',
  'Name',
  'ComponentId',
  'EntryPoint',
  'Capabilities',
];

const namePattern = new RegExp(APP_NAME_PATTERN);
const componentIdPattern = new RegExp(UUID_PATTERN);
const entryPointPattern = new RegExp(APP_ENTRY_POINT_PATTERN);

/** app_manifest.json as bytes or text: bounded, then UTF-8 JSON (a leading byte-order mark is allowed). */
function parseManifestBytes(bytes: Uint8Array): unknown {
  if (bytes.byteLength > MAX_APP_MANIFEST_BYTES) {
    throw new AppError(
      'APP_MANIFEST_TOO_LARGE',
      `the manifest is ${bytes.byteLength} bytes; at most ${MAX_APP_MANIFEST_BYTES} allowed`,
    );
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new AppError('APP_MANIFEST_NOT_JSON', `the manifest is not UTF-8 JSON (${String(cause)})`, {
      cause,
    });
  }
}

function checkString(value: unknown, pattern: RegExp, maxChars: number): value is string {
  return typeof value === 'string' && value.length <= maxChars && pattern.test(value);
}

function freezeManifest(manifest: AppManifest): AppManifest {
  for (const entry of Object.values(manifest.Capabilities)) {
    if (typeof entry === 'object') Object.freeze(entry);
  }
  Object.freeze(manifest.Capabilities);
  return Object.freeze(manifest);
}

/**
 * Checks an app manifest and returns a frozen copy holding exactly its fields. Accepts the parsed
 * JSON value, or the bytes or text of app_manifest.json. Stricter than the AppManifest schema in
 * a few places (see docs/apps.md) and never looser: anything it returns matches the schema.
 *
 * Each refusal has its own code (APP_MANIFEST_*) and a message naming the field as a JSON pointer
 * and the refused value, cut short. Checks run in a fixed order and stop at the first problem:
 * the manifest's shape, SchemaVersion (it decides which fields exist), unknown and missing
 * fields, then each field in schema order.
 */
export function validateAppManifest(value: unknown): AppManifest {
  let manifest = value;
  if (typeof value === 'string') manifest = parseManifestBytes(new TextEncoder().encode(value));
  else if (value instanceof Uint8Array) manifest = parseManifestBytes(value);
  if (!isJsonObject(manifest)) {
    throw refuse('APP_MANIFEST_NOT_OBJECT', pointer(), 'an app manifest is a JSON object', manifest);
  }
  for (const field of MANIFEST_FIELDS) {
    if (!Object.hasOwn(manifest, field)) {
      throw refuse('APP_MANIFEST_FIELD_MISSING', pointer(field), `${field} is required`, undefined);
    }
    // The version decides which fields exist, so it is checked before the unknown-field check.
    if (field === 'SchemaVersion' && manifest[field] !== APP_MANIFEST_SCHEMA_VERSION) {
      const expected = `this Orbis reads SchemaVersion ${APP_MANIFEST_SCHEMA_VERSION}`;
      throw refuse('APP_MANIFEST_SCHEMA_VERSION_UNSUPPORTED', pointer(field), expected, manifest[field]);
    }
  }
  for (const field of Object.keys(manifest)) {
    if (!MANIFEST_FIELDS.includes(field)) {
      const expected = `an app manifest has only ${MANIFEST_FIELDS.join(', ')}`;
      throw refuse('APP_MANIFEST_UNKNOWN_FIELD', pointer(field), expected, manifest[field]);
    }
  }
  const { Name, ComponentId, EntryPoint } = manifest;
  if (!checkString(Name, namePattern, MAX_APP_NAME_CHARS)) {
    const expected = `Name is 1 to ${MAX_APP_NAME_CHARS} letters, digits, spaces, dots, underscores or hyphens, starting with a letter or digit`;
    throw refuse('APP_MANIFEST_NAME_INVALID', pointer('Name'), expected, Name);
  }
  if (!checkString(ComponentId, componentIdPattern, 36)) {
    throw refuse(
      'APP_MANIFEST_COMPONENT_ID_INVALID',
      pointer('ComponentId'),
      'ComponentId is a lowercase UUID',
      ComponentId,
    );
  }
  if (!checkString(EntryPoint, entryPointPattern, MAX_APP_FILE_PATH_CHARS)) {
    const expected = `EntryPoint is a relative path ending in .js, at most ${MAX_APP_FILE_PATH_CHARS} characters, no segment starting with a dot`;
    throw refuse('APP_MANIFEST_ENTRY_POINT_INVALID', pointer('EntryPoint'), expected, EntryPoint);
  }
  const Capabilities: AppCapabilities = checkCapabilities(manifest['Capabilities']);
  return freezeManifest({
    SchemaVersion: APP_MANIFEST_SCHEMA_VERSION,
    Name,
    ComponentId,
    EntryPoint,
    Capabilities,
  });
}
