import Type from 'typebox';
import { ComponentId, TenantId } from './ids.ts';
import { MAX_ALLOWED_CONNECTIONS, MAX_MANIFEST_LIST_ENTRIES, MAX_MUTABLE_STORAGE_KIB } from './limits.ts';

/**
 * app_manifest.json: what an app is and every capability it may use. An app sees nothing its
 * manifest does not grant; the manifest travels inside the signed image package.
 */

/** A host an app may connect to: a DNS name (optionally `*.` for subdomains) or an IP literal. */
const AllowedHost = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern:
    '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
});
const Port = Type.Integer({ minimum: 1, maximum: 65_535 });
const PinNumber = Type.Integer({ minimum: 0, maximum: 1023 });
/** A named peripheral of the board, such as `ISU0` or `ADC-CONTROLLER-0`. */
const PeripheralName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Z0-9][A-Z0-9_-]*$' });

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
    PowerControls: list(Type.Union([Type.Literal('ForceReboot'), Type.Literal('ForcePowerDown')]), 2),
  },
  { additionalProperties: false },
);

export const APP_MANIFEST_SCHEMA_VERSION = 1;

export const AppManifest = Type.Object(
  {
    SchemaVersion: Type.Literal(APP_MANIFEST_SCHEMA_VERSION),
    Name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
    ComponentId: ComponentId,
    /** Path of the bundled JavaScript entry point inside the image payload. */
    EntryPoint: Type.String({
      minLength: 1,
      maxLength: 128,
      // Segments may not start with a dot, so `..` cannot climb out of the bundle.
      pattern: '^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\\.js$',
    }),
    Capabilities: AppCapabilities,
  },
  { additionalProperties: false, $id: 'AppManifest' },
);

export type AppCapabilities = Type.Static<typeof AppCapabilities>;
export type AppManifest = Type.Static<typeof AppManifest>;
