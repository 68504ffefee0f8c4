import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BootLogEntry } from '@orbis/protocol';
import { RootOfTrustError } from '../../errors.ts';
import type { RootOfTrust } from '../root-of-trust.ts';
import { manufactureEmulatedRootOfTrust, type ManufactureEmulatedOptions } from './emulated-backend.ts';

/** Test-only helpers for the emulated root of trust: temp device directories, entries, children. */

export const emulatedBackendModule = fileURLToPath(new URL('./emulated-backend.ts', import.meta.url));
export const directoryLockModule = fileURLToPath(new URL('../directory-lock.ts', import.meta.url));

/** A fresh directory under the OS temp dir, removed (after `cleanup`) when the test ends. */
export async function tempDirectory(t: TestContext, cleanup?: () => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'orbis-rot-'));
  t.after(async () => {
    await cleanup?.();
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Closes every root of trust a test opened, then removes its directory. */
export function closeAll(opened: RootOfTrust[]): () => Promise<void> {
  return async () => {
    for (const rot of opened) await rot.close();
  };
}

export interface TestDevice {
  readonly dir: string;
  readonly rot: RootOfTrust;
  /** Roots of trust reopened during the test, closed with it. */
  readonly opened: RootOfTrust[];
}

/** A manufactured device in a temp directory, optionally with manufacturing complete. */
export async function manufacturedDevice(
  t: TestContext,
  { complete = true, ...options }: ManufactureEmulatedOptions & { readonly complete?: boolean } = {},
): Promise<TestDevice> {
  const opened: RootOfTrust[] = [];
  const dir = await tempDirectory(t, closeAll(opened));
  const rot = await manufactureEmulatedRootOfTrust(dir, options);
  opened.push(rot);
  if (complete) await rot.completeManufacturing();
  return { dir, rot, opened };
}

function hexOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A boot log entry the evidence schema accepts. */
export function sampleEntry(kind: BootLogEntry['kind'] = 'os', securityVersion = 1): BootLogEntry {
  return {
    kind,
    componentId: randomUUID(),
    version: `${securityVersion}.0.0`,
    securityVersion,
    sha256: hexOf(`${kind} image ${securityVersion}`),
    signer: hexOf(`${kind} signer`),
  };
}

/** Asserts that `promise` rejects with a RootOfTrustError carrying `code`. */
export async function assertRotError(
  promise: Promise<unknown>,
  code: RootOfTrustError['code'],
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RootOfTrustError, `not a RootOfTrustError: ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** Asserts that `action` throws a RootOfTrustError carrying `code`. */
export function assertRotErrorSync(action: () => unknown, code: RootOfTrustError['code']): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof RootOfTrustError, `not a RootOfTrustError: ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/**
 * Runs an ES module in a separate Node process (the one running the tests) and resolves once
 * it prints `ready`. The child then stays alive until killed.
 */
export async function spawnReadyChild(t: TestContext, source: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${String(code)}) before ready: ${stderr}`)));
  });
  return child;
}

/** Kills a child with SIGKILL, as a crash or power cut would: nothing it holds is released. */
export async function crash(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Source for a child that imports `module` (a path) as `m` and runs `body`, then prints ready. */
export function childSource(module: string, body: string): string {
  return [
    `import * as m from ${JSON.stringify(pathToFileURL(module).href)};`,
    body,
    `process.stdout.write('ready\\n');`,
    'setInterval(() => {}, 1 << 30);',
  ].join('\n');
}
