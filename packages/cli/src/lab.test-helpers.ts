import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startService, type RunningService } from '@orbis/service';

/** Test-only: the orbis binary run as a person would, and a lab service to run it against. */
const bin = new URL('./bin/orbis.ts', import.meta.url).pathname;

export interface OrbisRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `orbis ARGS` in `cwd`, with no ORBIS_TOKEN inherited. */
export function runOrbis(cwd: string, ...args: string[]): Promise<OrbisRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ORBIS_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export const LAB_PASSWORD = 'a password of some length';

export interface LabService {
  readonly service: RunningService;
  /** The first platform operator's session token. */
  readonly operatorToken: string;
  readonly call: (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ) => Promise<Record<string, unknown>>;
}

/** Starts (or restarts) the lab service on `dir`'s data directory, on free ports; `env` adds ORBIS_* settings. */
export function startLab(dir: string, env: Record<string, string> = {}): Promise<RunningService> {
  return startService({
    env: {
      ORBIS_DATA_DIR: join(dir, 'data'),
      ORBIS_API_PORT: '0',
      ORBIS_DEVICE_PORT: '0',
      ORBIS_LOG_LEVEL: 'silent',
      ...env,
    },
    cwd: dir,
    lab: true,
  });
}

/** A lab service in `dir` on free ports, with its first platform operator set up. */
export async function startLabService(dir: string, env: Record<string, string> = {}): Promise<LabService> {
  const service = await startLab(dir, env);
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${service.apiUrl}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const setup = await call('POST', '/api/v1/setup', undefined, {
    setupToken: service.setupToken,
    email: 'op@example.com',
    password: LAB_PASSWORD,
  });
  return { service, operatorToken: setup['token'] as string, call };
}
