import {
  APP_CAPABILITY_NAMES,
  APP_PERIPHERAL_CAPABILITIES,
  APP_POWER_CONTROLS,
  MAX_ALLOWED_CONNECTIONS,
  MAX_GPIO_PIN,
  MAX_MANIFEST_LIST_ENTRIES,
  MAX_MUTABLE_STORAGE_KIB,
  MAX_PERIPHERAL_NAME_CHARS,
  MAX_TCP_PORT,
  PERIPHERAL_NAME_PATTERN,
  UUID_PATTERN,
  type AppCapabilities,
} from '@orbis/protocol';
import type { AppErrorCode } from '../errors.ts';
import { allowedHostProblem } from './allowed-host.ts';
import { pointer, refuse } from './refusal.ts';

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ListRule {
  readonly max: number;
  /** The code for an entry that is not what the list holds. */
  readonly code: AppErrorCode;
  /** What is wrong with an entry, or undefined when nothing is. */
  readonly problem: (entry: unknown) => string | undefined;
  /** Entries with the same key are the same entry. */
  readonly key: (entry: unknown) => string;
}

function integerFrom(min: number, max: number, what: string): (entry: unknown) => string | undefined {
  return (entry) =>
    typeof entry === 'number' && Number.isInteger(entry) && entry >= min && entry <= max
      ? undefined
      : `${what} is an integer from ${min} to ${max}`;
}

const peripheralPattern = new RegExp(PERIPHERAL_NAME_PATTERN);
const tenantPattern = new RegExp(UUID_PATTERN);

const PERIPHERAL_RULE: ListRule = {
  max: MAX_MANIFEST_LIST_ENTRIES,
  code: 'APP_MANIFEST_PERIPHERAL_INVALID',
  problem: (entry) =>
    typeof entry === 'string' && entry.length <= MAX_PERIPHERAL_NAME_CHARS && peripheralPattern.test(entry)
      ? undefined
      : `a peripheral name is 1 to ${MAX_PERIPHERAL_NAME_CHARS} of A-Z, 0-9, _ and -, such as ISU0`,
  key: String,
};

const LIST_RULES = {
  AllowedConnections: {
    max: MAX_ALLOWED_CONNECTIONS,
    code: 'APP_MANIFEST_HOST_INVALID',
    problem: allowedHostProblem,
    // DNS names compare without case (RFC 4343).
    key: (entry) => String(entry).toLowerCase(),
  },
  AllowedTcpServerPorts: {
    max: MAX_MANIFEST_LIST_ENTRIES,
    code: 'APP_MANIFEST_PORT_INVALID',
    problem: integerFrom(1, MAX_TCP_PORT, 'a TCP port'),
    key: String,
  },
  Gpio: {
    max: MAX_MANIFEST_LIST_ENTRIES,
    code: 'APP_MANIFEST_PIN_INVALID',
    problem: integerFrom(0, MAX_GPIO_PIN, 'a GPIO pin'),
    key: String,
  },
  PowerControls: {
    max: APP_POWER_CONTROLS.length,
    code: 'APP_MANIFEST_POWER_CONTROL_INVALID',
    problem: (entry) =>
      APP_POWER_CONTROLS.some((name) => name === entry)
        ? undefined
        : 'a power control is ForceReboot or ForcePowerDown',
    key: String,
  },
} as const satisfies Record<string, ListRule>;

/** Checks a capability list entry by entry; the result holds exactly the entries checked. */
function checkList<T>(value: unknown, name: string, rule: ListRule): T[] {
  const path = pointer('Capabilities', name);
  if (!Array.isArray(value))
    throw refuse('APP_MANIFEST_LIST_INVALID', path, `${name} is a JSON array`, value);
  const entries: readonly unknown[] = value;
  if (entries.length > rule.max) {
    throw refuse('APP_MANIFEST_LIST_TOO_LONG', path, `${name} lists at most ${rule.max} entries`, value);
  }
  const firstIndex = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    const problem = rule.problem(entry);
    if (problem !== undefined) throw refuse(rule.code, pointer('Capabilities', name, index), problem, entry);
    const key = rule.key(entry);
    const first = firstIndex.get(key);
    if (first !== undefined) {
      const where = pointer('Capabilities', name, index);
      const expected = `each entry once, and this is the same as ${pointer('Capabilities', name, first)}`;
      throw refuse('APP_MANIFEST_DUPLICATE_ENTRY', where, expected, entry);
    }
    firstIndex.set(key, index);
  }
  return [...entries] as T[];
}

function checkQuota(value: unknown): { SizeKB: number } {
  const path = ['Capabilities', 'MutableStorage'] as const;
  if (!isJsonObject(value)) {
    const expected = 'MutableStorage is an object {"SizeKB": n}';
    throw refuse('APP_MANIFEST_QUOTA_INVALID', pointer(...path), expected, value);
  }
  for (const key of Object.keys(value)) {
    if (key !== 'SizeKB') {
      throw refuse(
        'APP_MANIFEST_UNKNOWN_FIELD',
        pointer(...path, key),
        'MutableStorage has only SizeKB',
        value[key],
      );
    }
  }
  const size = value['SizeKB'];
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_MUTABLE_STORAGE_KIB) {
    const expected = `SizeKB is an integer from 1 to ${MAX_MUTABLE_STORAGE_KIB} (KiB)`;
    throw refuse('APP_MANIFEST_QUOTA_INVALID', pointer(...path, 'SizeKB'), expected, size);
  }
  return { SizeKB: size };
}

/** One peripheral has one function: the same name under Uart and I2cMaster is refused. */
function assertPeripheralsDistinct(capabilities: AppCapabilities): void {
  const claimedBy = new Map<string, string>();
  for (const name of APP_PERIPHERAL_CAPABILITIES) {
    for (const [index, peripheral] of (capabilities[name] ?? []).entries()) {
      const other = claimedBy.get(peripheral);
      if (other !== undefined) {
        const where = pointer('Capabilities', name, index);
        throw refuse(
          'APP_MANIFEST_DUPLICATE_ENTRY',
          where,
          `a peripheral already claimed under ${other}`,
          peripheral,
        );
      }
      claimedBy.set(peripheral, name);
    }
  }
}

/** Checks the Capabilities object of a manifest, naming the first field that is wrong. */
export function checkCapabilities(value: unknown): AppCapabilities {
  if (!isJsonObject(value)) {
    throw refuse('APP_MANIFEST_NOT_OBJECT', pointer('Capabilities'), 'Capabilities is a JSON object', value);
  }
  const known: readonly string[] = APP_CAPABILITY_NAMES;
  for (const name of Object.keys(value)) {
    if (!known.includes(name)) {
      const expected = `a capability is one of ${APP_CAPABILITY_NAMES.join(', ')}`;
      throw refuse('APP_MANIFEST_CAPABILITY_UNKNOWN', pointer('Capabilities', name), expected, name);
    }
  }
  const has = (name: string) => Object.hasOwn(value, name);
  const capabilities: AppCapabilities = {};
  if (has('AllowedConnections')) {
    capabilities.AllowedConnections = checkList<string>(
      value['AllowedConnections'],
      'AllowedConnections',
      LIST_RULES.AllowedConnections,
    );
  }
  if (has('AllowedTcpServerPorts')) {
    capabilities.AllowedTcpServerPorts = checkList<number>(
      value['AllowedTcpServerPorts'],
      'AllowedTcpServerPorts',
      LIST_RULES.AllowedTcpServerPorts,
    );
  }
  if (has('Gpio')) capabilities.Gpio = checkList<number>(value['Gpio'], 'Gpio', LIST_RULES.Gpio);
  if (has('PowerControls')) {
    capabilities.PowerControls = checkList<(typeof APP_POWER_CONTROLS)[number]>(
      value['PowerControls'],
      'PowerControls',
      LIST_RULES.PowerControls,
    );
  }
  for (const name of APP_PERIPHERAL_CAPABILITIES) {
    if (has(name)) capabilities[name] = checkList<string>(value[name], name, PERIPHERAL_RULE);
  }
  assertPeripheralsDistinct(capabilities);
  if (has('MutableStorage')) capabilities.MutableStorage = checkQuota(value['MutableStorage']);
  if (has('DeviceAuthentication')) {
    const tenant = value['DeviceAuthentication'];
    if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) {
      const where = pointer('Capabilities', 'DeviceAuthentication');
      throw refuse('APP_MANIFEST_TENANT_INVALID', where, 'a tenant ID is a lowercase UUID', tenant);
    }
    capabilities.DeviceAuthentication = tenant;
  }
  if (has('SoftwareUpdateDeferral')) {
    const deferral = value['SoftwareUpdateDeferral'];
    if (typeof deferral !== 'boolean') {
      const where = pointer('Capabilities', 'SoftwareUpdateDeferral');
      throw refuse(
        'APP_MANIFEST_UPDATE_DEFERRAL_INVALID',
        where,
        'SoftwareUpdateDeferral is true or false',
        deferral,
      );
    }
    capabilities.SoftwareUpdateDeferral = deferral;
  }
  return capabilities;
}
