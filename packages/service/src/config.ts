import { isAbsolute, join, resolve } from 'node:path';
import { DEVICE_CERTIFICATE_LIFETIME_SECONDS } from '@orbis/protocol';

/**
 * The service's configuration, read once from the environment at start. Every problem is
 * reported at once (not the first only), and the result is frozen and passed explicitly.
 */
export interface ServiceConfig {
  /** Where the embedded database, encrypted key files and blobs live. */
  readonly dataDir: string;
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (default: dataDir/orbis.db). */
  readonly databaseUrl: string;
  readonly host: string;
  /** The API listener: people, tools, the portal. 0 picks a free port (tests). */
  readonly apiPort: number;
  /** The device listener: mTLS, device protocol and update repositories. */
  readonly devicePort: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Lifetime of a password-login session token, in seconds. */
  readonly sessionLifetimeSeconds: number;
  /** Default and maximum lifetime of an API token, in seconds. */
  readonly apiTokenMaxLifetimeSeconds: number;
  /** Lifetime of device certificates, in seconds: 24 hours; shorter only for tests and labs. */
  readonly deviceCertificateLifetimeSeconds: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Default ports: clear of the services these machines run (PostgreSQL, Mosquitto 1883, …). */
export const DEFAULT_API_PORT = 8440;
export const DEFAULT_DEVICE_PORT = 8441;

type Env = Readonly<Record<string, string | undefined>>;

function readPort(env: Env, name: string, fallback: number, problems: string[]): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    problems.push(`${name} must be a port number from 0 to 65535, not ${JSON.stringify(text)}`);
    return fallback;
  }
  return port;
}

function readSeconds(env: Env, name: string, fallback: number, problems: string[]): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 60 || seconds > 366 * 24 * 3600) {
    problems.push(`${name} must be whole seconds from 60 to one year, not ${JSON.stringify(text)}`);
    return fallback;
  }
  return seconds;
}

/** Parses ORBIS_* variables; throws ConfigError listing every problem. */
export function parseConfig(env: Env, cwd: string): ServiceConfig {
  const problems: string[] = [];
  const dataDirText = env['ORBIS_DATA_DIR'] ?? '.orbis';
  const dataDir = isAbsolute(dataDirText) ? dataDirText : resolve(cwd, dataDirText);
  const databaseUrl = env['ORBIS_DATABASE_URL'] ?? join(dataDir, 'orbis.db');
  if (databaseUrl === '') problems.push('ORBIS_DATABASE_URL is empty');
  const logLevel = env['ORBIS_LOG_LEVEL'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`ORBIS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(logLevel)}`);
  }
  const apiPort = readPort(env, 'ORBIS_API_PORT', DEFAULT_API_PORT, problems);
  const devicePort = readPort(env, 'ORBIS_DEVICE_PORT', DEFAULT_DEVICE_PORT, problems);
  if (apiPort !== 0 && apiPort === devicePort)
    problems.push('ORBIS_API_PORT and ORBIS_DEVICE_PORT must differ');
  const config: ServiceConfig = {
    dataDir,
    databaseUrl,
    host: env['ORBIS_HOST'] ?? '127.0.0.1',
    apiPort,
    devicePort,
    logLevel: logLevel as ServiceConfig['logLevel'],
    sessionLifetimeSeconds: readSeconds(env, 'ORBIS_SESSION_LIFETIME_SECONDS', 12 * 3600, problems),
    apiTokenMaxLifetimeSeconds: readSeconds(
      env,
      'ORBIS_API_TOKEN_MAX_LIFETIME_SECONDS',
      90 * 24 * 3600,
      problems,
    ),
    deviceCertificateLifetimeSeconds: readSeconds(
      env,
      'ORBIS_DEVICE_CERTIFICATE_LIFETIME_SECONDS',
      DEVICE_CERTIFICATE_LIFETIME_SECONDS,
      problems,
    ),
  };
  if (config.deviceCertificateLifetimeSeconds > DEVICE_CERTIFICATE_LIFETIME_SECONDS) {
    problems.push('ORBIS_DEVICE_CERTIFICATE_LIFETIME_SECONDS is at most 86400 (24 hours)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
