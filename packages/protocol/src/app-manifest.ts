import Type from 'typebox';
import { ComponentId, TenantId } from './ids.ts';
import { MAX_ALLOWED_CONNECTIONS, MAX_MANIFEST_LIST_ENTRIES, MAX_MUTABLE_STORAGE_KIB } from './limits.ts';

/**
 * app_manifest.json: what an app is and every capability it may use. An app sees nothing its
 * manifest does not grant; the manifest travels inside the signed image package.
 *
 * The patterns and ranges are exported so that validateAppManifest (packages/verify), which
 * names the field and the problem for each refusal, reads the same rules as this schema.
 */

/** A host an app may connect to: a DNS name (optionally `*.` for subdomains) or an IPv4 literal. */
export const ALLOWED_HOST_PATTERN =
  '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
/** Longest host, in characters (RFC 1035 section 2.3.4, without a trailing dot). */
export const MAX_ALLOWED_HOST_CHARS = 253;
/** A named peripheral of the board, such as `ISU0` or `ADC-CONTROLLER-0`. */
export const PERIPHERAL_NAME_PATTERN = '^[A-Z0-9][A-Z0-9_-]*$';
export const MAX_PERIPHERAL_NAME_CHARS = 32;
export const MAX_GPIO_PIN = 1023;
export const MAX_TCP_PORT = 65_535;
export const APP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 ._-]*$';
export const MAX_APP_NAME_CHARS = 64;
/** A file inside an app bundle. Segments may not start with a dot, so `..` cannot climb out. */
export const APP_FILE_PATH_PATTERN = '^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$';
/** The entry point is a bundle file whose name ends in `.js`. */
export const APP_ENTRY_POINT_PATTERN = '^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\\.js$';
/** Longest path of a file inside an app bundle, in characters (all ASCII, so also bytes). */
export const MAX_APP_FILE_PATH_CHARS = 128;
export const APP_POWER_CONTROLS = ['ForceReboot', 'ForcePowerDown'] as const;

const AllowedHost = Type.String({
  minLength: 1,
  maxLength: MAX_ALLOWED_HOST_CHARS,
  pattern: ALLOWED_HOST_PATTERN,
});
const Port = Type.Integer({ minimum: 1, maximum: MAX_TCP_PORT });
const PinNumber = Type.Integer({ minimum: 0, maximum: MAX_GPIO_PIN });
const PeripheralName = Type.String({
  minLength: 1,
  maxLength: MAX_PERIPHERAL_NAME_CHARS,
  pattern: PERIPHERAL_NAME_PATTERN,
});

function list<T extends Type.TSchema>(item: T, maxItems = MAX_MANIFEST_LIST_ENTRIES) {
  return Type.Optional(Type.Array(item, { maxItems, uniqueItems: true }));
}

export const APP_CAPABILITY_NAMES = [
  'AllowedConnections',
  'AllowedTcpServerPorts',
  'Gpio',
  'Uart',
  'I2cMaster',
  'SpiMaster',
  'Adc',
  'Pwm',
  'MutableStorage',
  'DeviceAuthentication',
  'SoftwareUpdateDeferral',
  'PowerControls',
] as const;

/** The capabilities that name board peripherals; a peripheral has one function and one owner. */
export const APP_PERIPHERAL_CAPABILITIES = ['Uart', 'I2cMaster', 'SpiMaster', 'Adc', 'Pwm'] as const;

export const AppCapabilities = Type.Object(
  {
    AllowedConnections: list(AllowedHost, MAX_ALLOWED_CONNECTIONS),
    AllowedTcpServerPorts: list(Port),
    Gpio: list(PinNumber),
    Uart: list(PeripheralName),
    I2cMaster: list(PeripheralName),
    SpiMaster: list(PeripheralName),
    Adc: list(PeripheralName),
    Pwm: list(PeripheralName),
    MutableStorage: Type.Optional(
      Type.Object(
        { SizeKB: Type.Integer({ minimum: 1, maximum: MAX_MUTABLE_STORAGE_KIB }) },
        { additionalProperties: false },
      ),
    ),
    /** The tenant whose device certificate the app may use for mTLS (never the key itself). */
    DeviceAuthentication: Type.Optional(TenantId),
    SoftwareUpdateDeferral: Type.Optional(Type.Boolean()),
    PowerControls: list(
      Type.Union([Type.Literal(APP_POWER_CONTROLS[0]), Type.Literal(APP_POWER_CONTROLS[1])]),
      APP_POWER_CONTROLS.length,
    ),
  },
  { additionalProperties: false },
);

export const APP_MANIFEST_SCHEMA_VERSION = 1;

export const AppManifest = Type.Object(
  {
    SchemaVersion: Type.Literal(APP_MANIFEST_SCHEMA_VERSION),
    Name: Type.String({ minLength: 1, maxLength: MAX_APP_NAME_CHARS, pattern: APP_NAME_PATTERN }),
    ComponentId: ComponentId,
    /** Path of the bundled JavaScript entry point inside the image payload. */
    EntryPoint: Type.String({
      minLength: 1,
      maxLength: MAX_APP_FILE_PATH_CHARS,
      pattern: APP_ENTRY_POINT_PATTERN,
    }),
    Capabilities: AppCapabilities,
  },
  { additionalProperties: false, $id: 'AppManifest' },
);

export type AppCapabilities = Type.Static<typeof AppCapabilities>;
export type AppManifest = Type.Static<typeof AppManifest>;
