import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppManifest, isErrorCode, MAX_APP_MANIFEST_BYTES } from '@orbis/protocol';
import { Compile } from 'typebox/compile';
import { AppError, type AppErrorCode } from '../errors.ts';
import { fullManifest, TENANT_ID } from './app-fixtures.test-helpers.ts';
import { validateAppManifest } from './validate-app-manifest.ts';

type Json = Record<string, unknown>;

/** The full manifest with top-level fields replaced. */
function withFields(fields: Json): Json {
  return { ...fullManifest(), ...fields };
}

/** The full manifest without one top-level field. */
function without(field: string): Json {
  return Object.fromEntries(Object.entries(fullManifest()).filter(([key]) => key !== field));
}

/** The full manifest with capabilities replaced. */
function withCapabilities(capabilities: Json): Json {
  return withFields({ Capabilities: { ...fullManifest().Capabilities, ...capabilities } });
}

function refusal(value: unknown): AppError {
  try {
    validateAppManifest(value);
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(value)}`);
}

function assertRefused(value: unknown, code: AppErrorCode, path?: string): void {
  const error = refusal(value);
  assert.equal(error.code, code, error.message);
  if (path !== undefined) assert.ok(error.message.startsWith(`${path}: `), error.message);
}

describe('validateAppManifest', () => {
  it('accepts a manifest using every capability and returns a frozen copy of exactly its fields', () => {
    const input = fullManifest();
    const manifest = validateAppManifest(input);
    assert.deepEqual(manifest, fullManifest());
    assert.notEqual(manifest, input);
    assert.ok(Object.isFrozen(manifest) && Object.isFrozen(manifest.Capabilities));
    assert.ok(
      Object.isFrozen(manifest.Capabilities.Gpio) && Object.isFrozen(manifest.Capabilities.MutableStorage),
    );
    input.Capabilities.Gpio?.push(77);
    assert.deepEqual(manifest.Capabilities.Gpio, [0, 8, 9, 1023]);
  });

  it('accepts a manifest with no capabilities', () => {
    const manifest = validateAppManifest(withFields({ Capabilities: {} }));
    assert.deepEqual(manifest.Capabilities, {});
  });

  it('reads app_manifest.json as bytes or text, with or without a byte-order mark', () => {
    const text = JSON.stringify(fullManifest(), null, 2);
    assert.deepEqual(validateAppManifest(text), fullManifest());
    assert.deepEqual(validateAppManifest(new TextEncoder().encode(text)), fullManifest());
    assert.deepEqual(validateAppManifest(`\uFEFF${text}`), fullManifest());
  });

  it('refuses a manifest over 16 KiB before parsing it', () => {
    const padded = JSON.stringify(fullManifest()).padEnd(MAX_APP_MANIFEST_BYTES + 1, ' ');
    assertRefused(padded, 'APP_MANIFEST_TOO_LARGE');
    assert.deepEqual(validateAppManifest(padded.slice(0, MAX_APP_MANIFEST_BYTES)), fullManifest());
  });

  it('refuses bytes that are not UTF-8 JSON', () => {
    for (const bad of ['', '{', '{"SchemaVersion":1,}', "{'a':1}", 'undefined']) {
      assertRefused(bad, 'APP_MANIFEST_NOT_JSON');
    }
    assertRefused(Uint8Array.of(0x7b, 0xff, 0x7d), 'APP_MANIFEST_NOT_JSON');
  });

  it('refuses a manifest or Capabilities that is not a JSON object', () => {
    for (const bad of [null, 1, 'null', '[]', '"app"', [fullManifest()], true, undefined]) {
      assertRefused(bad, 'APP_MANIFEST_NOT_OBJECT', '/');
    }
    for (const bad of [null, [], 'Gpio', 8]) {
      assertRefused(withFields({ Capabilities: bad }), 'APP_MANIFEST_NOT_OBJECT', '/Capabilities');
    }
  });

  it('refuses a manifest missing a required field', () => {
    for (const field of ['SchemaVersion', 'Name', 'ComponentId', 'EntryPoint', 'Capabilities']) {
      assertRefused(without(field), 'APP_MANIFEST_FIELD_MISSING', `/${field}`);
    }
  });

  it('refuses another schema version before it looks at other fields', () => {
    for (const version of [0, 2, '1', 1.5, null, true]) {
      assertRefused(withFields({ SchemaVersion: version }), 'APP_MANIFEST_SCHEMA_VERSION_UNSUPPORTED');
    }
    const future = withFields({ SchemaVersion: 2, Version: '2.0.0' });
    assertRefused(future, 'APP_MANIFEST_SCHEMA_VERSION_UNSUPPORTED', '/SchemaVersion');
  });

  it('refuses an unknown field, including one spelled like a known field', () => {
    for (const field of ['Version', 'name', 'Capabilites', '__proto__', 'constructor']) {
      const manifest = JSON.parse(JSON.stringify({ ...fullManifest(), [field]: 1 })) as unknown;
      assertRefused(manifest, 'APP_MANIFEST_UNKNOWN_FIELD', `/${field}`);
    }
    const storage = withCapabilities({ MutableStorage: { SizeKB: 1, Encrypted: true } });
    assertRefused(storage, 'APP_MANIFEST_UNKNOWN_FIELD', '/Capabilities/MutableStorage/Encrypted');
  });

  it('refuses an invalid name', () => {
    for (const name of [
      '',
      ' blink',
      '.blink',
      'blink/led',
      'blink\n',
      'b'.repeat(65),
      'blïnk',
      7,
      null,
      ['blink'],
    ]) {
      assertRefused(withFields({ Name: name }), 'APP_MANIFEST_NAME_INVALID', '/Name');
    }
    assert.equal(validateAppManifest(withFields({ Name: 'b'.repeat(64) })).Name.length, 64);
  });

  it('refuses a component ID that is not a lowercase UUID', () => {
    const id = fullManifest().ComponentId;
    for (const bad of [
      id.toUpperCase(),
      id.slice(1),
      `${id}0`,
      id.replaceAll('-', ''),
      `{${id}}`,
      42,
      null,
    ]) {
      assertRefused(withFields({ ComponentId: bad }), 'APP_MANIFEST_COMPONENT_ID_INVALID', '/ComponentId');
    }
  });

  it('refuses an entry point that climbs out of the bundle or is not JavaScript', () => {
    const bad = [
      '../main.js',
      'app/../../main.js',
      '/main.js',
      '.hidden.js',
      'app/.x/main.js',
      'main.mjs',
      'main.ts',
      'main',
      'main.js/',
      'app\\main.js',
      'c:/main.js',
      `${'a'.repeat(126)}.js`,
      1,
    ];
    for (const entryPoint of bad) {
      assertRefused(
        withFields({ EntryPoint: entryPoint }),
        'APP_MANIFEST_ENTRY_POINT_INVALID',
        '/EntryPoint',
      );
    }
    assert.equal(
      validateAppManifest(withFields({ EntryPoint: `${'a'.repeat(125)}.js` })).EntryPoint.length,
      128,
    );
  });

  it('refuses an unknown capability', () => {
    for (const name of ['Camera', 'gpio', 'GPIO', 'AllowedConnection', 'NetworkConfig', '__proto__']) {
      const manifest = JSON.parse(JSON.stringify(withCapabilities({ [name]: true }))) as unknown;
      assertRefused(manifest, 'APP_MANIFEST_CAPABILITY_UNKNOWN', `/Capabilities/${name}`);
    }
  });

  it('refuses a capability list that is not an array', () => {
    const lists = [
      'AllowedConnections',
      'AllowedTcpServerPorts',
      'Gpio',
      'Uart',
      'I2cMaster',
      'SpiMaster',
      'Adc',
      'Pwm',
      'PowerControls',
    ];
    for (const name of lists) {
      for (const bad of [8, 'ISU0', { 0: 8 }, null, true]) {
        assertRefused(
          withCapabilities({ [name]: bad }),
          'APP_MANIFEST_LIST_INVALID',
          `/Capabilities/${name}`,
        );
      }
    }
  });

  it('refuses a list longer than its limit', () => {
    const pins = Array.from({ length: 65 }, (_, pin) => pin);
    assertRefused(withCapabilities({ Gpio: pins }), 'APP_MANIFEST_LIST_TOO_LONG', '/Capabilities/Gpio');
    assert.equal(
      validateAppManifest(withCapabilities({ Gpio: pins.slice(1) })).Capabilities.Gpio?.length,
      64,
    );
    const hosts = Array.from({ length: 65 }, (_, index) => `h${index}.example.com`);
    assertRefused(withCapabilities({ AllowedConnections: hosts }), 'APP_MANIFEST_LIST_TOO_LONG');
    const controls = ['ForceReboot', 'ForcePowerDown', 'ForceReboot'];
    assertRefused(withCapabilities({ PowerControls: controls }), 'APP_MANIFEST_LIST_TOO_LONG');
  });

  it('accepts DNS names, subdomain wildcards and IPv4 addresses as hosts', () => {
    const hosts = [
      'example.com',
      'EXAMPLE.org',
      '*.example.net',
      '*.a.b.example',
      'localhost',
      'a-b.c-d.example',
      'xn--bcher-kva.example',
      '0.0.0.0',
      '255.255.255.255',
      '10.0.0.1',
      `${'a'.repeat(63)}.example`,
      '1password.com',
      '123.example',
    ];
    const manifest = validateAppManifest(withCapabilities({ AllowedConnections: hosts }));
    assert.deepEqual(manifest.Capabilities.AllowedConnections, hosts);
  });

  it('refuses a malformed host', () => {
    const bad = [
      'https://example.com',
      'example.com:443',
      'example.com/path',
      'user@example.com',
      'example.com.',
      '.example.com',
      '',
      ' ',
      'exa mple.com',
      'ex_ample.com',
      '-example.com',
      'example-.com',
      'a..b',
      '*',
      '*.',
      '**.example.com',
      'a.*.example.com',
      '*example.com',
      '*.com',
      '*.1.2.3.4',
      '999.1.1.1',
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '::1',
      '[::1]',
      'fe80::1',
      `${'a'.repeat(64)}.example`,
      `${'a.'.repeat(126)}ab`,
      'é.example',
      7,
      null,
      ['example.com'],
    ];
    for (const host of bad) {
      assertRefused(
        withCapabilities({ AllowedConnections: [host] }),
        'APP_MANIFEST_HOST_INVALID',
        '/Capabilities/AllowedConnections/0',
      );
    }
  });

  it('refuses a port outside 1 to 65535', () => {
    for (const port of [0, -1, 65_536, 80.5, '80', Number.NaN, Infinity, null, 2 ** 53]) {
      assertRefused(
        withCapabilities({ AllowedTcpServerPorts: [8080, port] }),
        'APP_MANIFEST_PORT_INVALID',
        '/Capabilities/AllowedTcpServerPorts/1',
      );
    }
  });

  it('refuses a GPIO pin outside 0 to 1023', () => {
    for (const pin of [-1, 1024, 2.5, '8', true, null, -Infinity]) {
      assertRefused(withCapabilities({ Gpio: [pin] }), 'APP_MANIFEST_PIN_INVALID', '/Capabilities/Gpio/0');
    }
  });

  it('refuses a malformed peripheral name under each peripheral capability', () => {
    for (const name of ['Uart', 'I2cMaster', 'SpiMaster', 'Adc', 'Pwm']) {
      for (const peripheral of ['isu0', '', '-ISU0', '_ISU0', 'ISU 0', 'ISU.0', 'A'.repeat(33), 0, null]) {
        assertRefused(
          withCapabilities({ [name]: [peripheral] }),
          'APP_MANIFEST_PERIPHERAL_INVALID',
          `/Capabilities/${name}/0`,
        );
      }
    }
  });

  it('refuses an entry listed twice', () => {
    const duplicates: [string, unknown[], string][] = [
      ['Gpio', [8, 9, 8], '/Capabilities/Gpio/2'],
      ['AllowedTcpServerPorts', [80, 80], '/Capabilities/AllowedTcpServerPorts/1'],
      ['AllowedConnections', ['Example.com', 'example.COM'], '/Capabilities/AllowedConnections/1'],
      ['Uart', ['ISU0', 'ISU0'], '/Capabilities/Uart/1'],
      ['PowerControls', ['ForceReboot', 'ForceReboot'], '/Capabilities/PowerControls/1'],
    ];
    for (const [name, list, path] of duplicates) {
      const error = refusal(withCapabilities({ [name]: list }));
      assert.equal(error.code, 'APP_MANIFEST_DUPLICATE_ENTRY');
      assert.match(error.message, new RegExp(`^${path}: .*same as /Capabilities/${name}/`));
    }
  });

  it('refuses one peripheral claimed under two peripheral capabilities', () => {
    const manifest = withCapabilities({ Uart: ['ISU0'], I2cMaster: ['ISU1', 'ISU0'] });
    const error = refusal(manifest);
    assert.equal(error.code, 'APP_MANIFEST_DUPLICATE_ENTRY');
    assert.match(
      error.message,
      /^\/Capabilities\/I2cMaster\/1: a peripheral already claimed under Uart; got "ISU0"$/,
    );
  });

  it('refuses a quota over the limit or not a positive integer', () => {
    for (const size of [65_537, 0, -1, 1.5, '64', null, Infinity]) {
      assertRefused(
        withCapabilities({ MutableStorage: { SizeKB: size } }),
        'APP_MANIFEST_QUOTA_INVALID',
        '/Capabilities/MutableStorage/SizeKB',
      );
    }
    assertRefused(
      withCapabilities({ MutableStorage: {} }),
      'APP_MANIFEST_QUOTA_INVALID',
      '/Capabilities/MutableStorage/SizeKB',
    );
    for (const storage of [64, [64], null, 'SizeKB']) {
      assertRefused(
        withCapabilities({ MutableStorage: storage }),
        'APP_MANIFEST_QUOTA_INVALID',
        '/Capabilities/MutableStorage',
      );
    }
    const largest = validateAppManifest(withCapabilities({ MutableStorage: { SizeKB: 65_536 } }));
    assert.deepEqual(largest.Capabilities.MutableStorage, { SizeKB: 65_536 });
  });

  it('refuses a device-authentication tenant that is not a lowercase UUID', () => {
    for (const tenant of [TENANT_ID.toUpperCase(), 'tenant', '', true, null, [TENANT_ID]]) {
      assertRefused(
        withCapabilities({ DeviceAuthentication: tenant }),
        'APP_MANIFEST_TENANT_INVALID',
        '/Capabilities/DeviceAuthentication',
      );
    }
  });

  it('refuses an update deferral that is not a boolean', () => {
    for (const deferral of ['true', 1, null, {}]) {
      assertRefused(
        withCapabilities({ SoftwareUpdateDeferral: deferral }),
        'APP_MANIFEST_UPDATE_DEFERRAL_INVALID',
      );
    }
    assert.equal(
      validateAppManifest(withCapabilities({ SoftwareUpdateDeferral: false })).Capabilities
        .SoftwareUpdateDeferral,
      false,
    );
  });

  it('refuses an unknown power control', () => {
    for (const control of ['ForceSleep', 'forcereboot', 'Reboot', 1, null]) {
      assertRefused(
        withCapabilities({ PowerControls: [control] }),
        'APP_MANIFEST_POWER_CONTROL_INVALID',
        '/Capabilities/PowerControls/0',
      );
    }
  });

  it('names the field and quotes the refused value, cut short, in every message', () => {
    const long = refusal(withFields({ Name: `${'x'.repeat(10_000)}/` }));
    assert.ok(long.message.length < 300, long.message);
    assert.match(long.message, /^\/Name: .*; got "x{48}…"$/);
    const key = refusal({ ...fullManifest(), [`a/b~c${'k'.repeat(100)}`]: 1 });
    assert.match(key.message, /^\/a~1b~0ck{43}…: /);
    const described: [unknown, string][] = [
      [{ a: 1 }, 'an object'],
      [[1, 2], 'an array of 2 entries'],
      [10n, '10n'],
      [Symbol('s'), 'a symbol'],
      [() => 1, 'a function'],
      [undefined, 'undefined'],
      [-0.5, '-0.5'],
      [false, 'false'],
      [null, 'null'],
    ];
    for (const [value, text] of described) {
      assert.ok(refusal(withFields({ Name: value })).message.endsWith(`; got ${text}`));
    }
  });

  it('never accepts what the AppManifest schema refuses, and always refuses with a catalogued APP_ code (fuzz)', () => {
    const schema = Compile(AppManifest);
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T =>
      structuredClone(items[Math.floor(random() * items.length)] as T);
    const values: unknown[] = [
      0,
      1,
      -1,
      8,
      1023,
      1024,
      65_535,
      65_536,
      1.5,
      '',
      'ISU0',
      'x',
      '*.com',
      'a.example',
      TENANT_ID,
      true,
      false,
      null,
      [],
      {},
      [8],
      ['ISU0'],
      { SizeKB: 8 },
    ];
    const manifestKeys = ['SchemaVersion', 'Name', 'ComponentId', 'EntryPoint', 'Capabilities', 'Extra'];
    const capabilityKeys = [...Object.keys(fullManifest().Capabilities), 'Camera'];
    let accepted = 0;
    for (let round = 0; round < 3000; round += 1) {
      const manifest = fullManifest() as unknown as Json;
      const capabilities = manifest['Capabilities'] as Json;
      for (let change = 0; change < 1 + Math.floor(random() * 3); change += 1) {
        const target = random() < 0.3 ? manifest : capabilities;
        const key = pick(target === manifest ? manifestKeys : capabilityKeys);
        if (random() < 0.2) Reflect.deleteProperty(target, key);
        else if (random() < 0.5 && Array.isArray(target[key])) (target[key] as unknown[]).push(pick(values));
        else target[key] = pick(values);
      }
      try {
        const result = validateAppManifest(manifest);
        accepted += 1;
        assert.ok(schema.Check(result), JSON.stringify(manifest));
      } catch (error) {
        assert.ok(
          error instanceof AppError && isErrorCode(error.code) && error.code.startsWith('APP_MANIFEST_'),
          String(error),
        );
      }
    }
    assert.ok(accepted > 100, `only ${accepted} mutations were valid manifests`);
  });
});
