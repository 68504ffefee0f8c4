import { canonicalJsonBytes } from '@orbis/crypto';
import type { AppManifest } from '@orbis/protocol';

/**
 * Test-only: a valid manifest using every capability, and an app-payload encoder written from
 * docs/formats/app-package.md, independent of encodeAppPayload (packages/ca), so tests can build
 * payloads the writer refuses to make.
 */
export const COMPONENT_ID = '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10';
export const TENANT_ID = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';

export function fullManifest(): AppManifest {
  return {
    SchemaVersion: 1,
    Name: 'Guardian 2.x_beta',
    ComponentId: COMPONENT_ID,
    EntryPoint: 'app/main.js',
    Capabilities: {
      AllowedConnections: ['telemetry.example.com', '*.example.net', '192.0.2.10', 'localhost'],
      AllowedTcpServerPorts: [1, 8080, 65_535],
      Gpio: [0, 8, 9, 1023],
      Uart: ['ISU0'],
      I2cMaster: ['ISU1'],
      SpiMaster: ['ISU2'],
      Adc: ['ADC-CONTROLLER-0'],
      Pwm: ['PWM_CONTROLLER_0'],
      MutableStorage: { SizeKB: 64 },
      DeviceAuthentication: TENANT_ID,
      SoftwareUpdateDeferral: true,
      PowerControls: ['ForceReboot', 'ForcePowerDown'],
    },
  };
}

export interface RawFile {
  readonly path: string | Uint8Array;
  readonly bytes: Uint8Array | string;
  /** Overrides the declared lengths; by default the true ones. */
  readonly pathLength?: number;
  readonly size?: number;
}

export interface RawAppPayload {
  readonly magic?: string;
  readonly version?: number;
  readonly fileCount?: number;
  /** The manifest's bytes; by default the canonical JSON of `manifest`. */
  readonly manifestBytes?: Uint8Array;
  readonly manifest?: unknown;
  readonly manifestLength?: number;
  readonly files?: readonly RawFile[];
  readonly trailing?: Uint8Array;
}

const bytesOf = (value: Uint8Array | string) => (typeof value === 'string' ? Buffer.from(value) : value);

export function encodeRawAppPayload(raw: RawAppPayload = {}): Uint8Array {
  const manifestBytes = raw.manifestBytes ?? canonicalJsonBytes(raw.manifest ?? fullManifest());
  const files = raw.files ?? [{ path: 'app/main.js', bytes: 'orbis.log.info("hello");\n' }];
  const preamble = Buffer.alloc(12);
  preamble.write(raw.magic ?? 'OAPP', 0, 'latin1');
  preamble.writeUInt16BE(raw.version ?? 1, 4);
  preamble.writeUInt16BE(raw.fileCount ?? files.length, 6);
  preamble.writeUInt32BE(raw.manifestLength ?? manifestBytes.byteLength, 8);
  const entries = files.map((file) => {
    const path = bytesOf(file.path);
    const bytes = bytesOf(file.bytes);
    const pathLength = Buffer.alloc(2);
    pathLength.writeUInt16BE(file.pathLength ?? path.byteLength);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(file.size ?? bytes.byteLength);
    return Buffer.concat([pathLength, path, size, bytes]);
  });
  return Buffer.concat([preamble, manifestBytes, ...entries, raw.trailing ?? new Uint8Array(0)]);
}
