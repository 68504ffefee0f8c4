import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyTufRootPair } from '@orbis/device';
import { sampleAppHeader as header } from '@orbis/testkit';

const bin = new URL('./bin/orbis.ts', import.meta.url).pathname;
let dir = '';

function orbis(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `orbis image pack` of app.js with the given header and key files. */
function pack(headerFile: string, keyFile: string, out: string, ...flags: string[]) {
  return orbis(
    'image',
    'pack',
    '--header',
    headerFile,
    '--payload',
    'app.js',
    '--key',
    keyFile,
    '--out',
    out,
    ...flags,
  );
}

function errorCode(result: ReturnType<typeof orbis>): string | undefined {
  return (JSON.parse(result.stdout) as { error?: { code: string } }).error?.code;
}

describe('orbis keys and orbis image', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orbis-cli-'));
    writeFileSync(join(dir, 'header.json'), JSON.stringify(header));
    writeFileSync(join(dir, 'app.js'), 'console.log("blink");\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key readable only by its owner, and never overwrites one', () => {
    const made = orbis('keys', 'generate', '--out', 'dev.key', '--json');
    assert.equal(made.status, 0, made.stderr);
    assert.match((JSON.parse(made.stdout) as { keyId: string }).keyId, /^[0-9a-f]{64}$/);
    assert.equal(statSync(join(dir, 'dev.key')).mode & 0o777, 0o600);
    const before = readFileSync(join(dir, 'dev.key'));
    assert.equal(errorCode(orbis('keys', 'generate', '--out', 'dev.key', '--json')), 'CLI_FILE_EXISTS');
    assert.deepEqual(readFileSync(join(dir, 'dev.key')), before);
  });

  it('packs, inspects and verifies an image package', () => {
    const packed = pack('header.json', 'dev.key', 'app.oimg');
    assert.equal(packed.status, 0, packed.stderr);
    const inspected = JSON.parse(orbis('image', 'inspect', 'app.oimg', '--json').stdout) as Record<
      string,
      unknown
    >;
    assert.equal(inspected['name'], 'blink');
    assert.equal(inspected['verified'], false);
    const verified = orbis('image', 'verify', 'app.oimg', '--key', 'dev.key.pub', '--json');
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal((JSON.parse(verified.stdout) as { verified: boolean }).verified, true);
    const table = orbis('image', 'verify', 'app.oimg', '--key', 'dev.key.pub');
    assert.match(table.stdout, /^field +value\n/);
    assert.match(table.stdout, /verified +yes/);
  });

  it('refuses a package signed by a key that was not given, with its code and exit status 1', () => {
    orbis('keys', 'generate', '--out', 'other.key');
    const result = orbis('image', 'verify', 'app.oimg', '--key', 'other.key.pub', '--json');
    assert.equal(result.status, 1);
    assert.equal(errorCode(result), 'IMAGE_SIGNATURE_UNKNOWN_KEY');
    const human = orbis('image', 'verify', 'app.oimg', '--key', 'other.key.pub');
    assert.match(human.stderr, /^orbis: IMAGE_SIGNATURE_UNKNOWN_KEY: /);
  });

  it('refuses a tampered package', () => {
    const bytes = readFileSync(join(dir, 'app.oimg'));
    const payloadStart = 16 + bytes.readUInt32BE(8);
    bytes[payloadStart] = (bytes[payloadStart] ?? 0) ^ 1;
    writeFileSync(join(dir, 'tampered.oimg'), bytes);
    assert.equal(
      errorCode(orbis('image', 'verify', 'tampered.oimg', '--key', 'dev.key.pub', '--json')),
      'IMAGE_SIGNATURE_INVALID',
    );
  });

  it('explains bad input with a code instead of a stack trace', () => {
    writeFileSync(join(dir, 'bad-header.json'), JSON.stringify({ ...header, kind: 'firmware' }));
    const badHeader = pack('bad-header.json', 'dev.key', 'x.oimg', '--json');
    assert.equal(errorCode(badHeader), 'CLI_HEADER_INVALID');
    writeFileSync(join(dir, 'not-json.json'), '{kind');
    const notJson = pack('not-json.json', 'dev.key', 'x.oimg', '--json');
    assert.equal(errorCode(notJson), 'CLI_HEADER_INVALID');
    assert.equal(
      errorCode(orbis('image', 'verify', 'missing.oimg', '--key', 'dev.key.pub', '--json')),
      'CLI_FILE_UNREADABLE',
    );
    assert.equal(
      errorCode(orbis('image', 'verify', 'app.oimg', '--key', 'app.js', '--json')),
      'CLI_KEY_INVALID',
    );
    const publicAsPrivate = pack('header.json', 'dev.key.pub', 'x.oimg', '--json');
    assert.equal(errorCode(publicAsPrivate), 'CLI_KEY_INVALID');
    assert.equal(errorCode(orbis('image', 'inspect', 'app.js', '--json')), 'IMAGE_MAGIC_INVALID');
    for (const result of [badHeader, notJson, publicAsPrivate])
      assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at /);
  });

  it('answers an unknown command with usage and a non-zero status', () => {
    const result = orbis('image', 'bogus');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /unknown command 'bogus'/);
  });
});

describe('orbis start', () => {
  interface StartSummary {
    api: string;
    setupToken: string | null;
    parts: unknown[];
    fleet: { devices: number; tenantId: string; directory: string; setAside: string[] } | null;
  }

  /** Runs `orbis start --json` in `cwd` until it has printed its summary. */
  async function start(cwd: string) {
    const child = spawn(process.execPath, [bin, 'start', '--json'], {
      cwd,
      env: {
        ...process.env,
        ORBIS_API_PORT: '0',
        ORBIS_DEVICE_PORT: '0',
        ORBIS_LOG_LEVEL: 'warn',
        ORBIS_LAB_DEVICES: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const summary = await new Promise<StartSummary>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          resolve(JSON.parse(stdout) as StartSummary);
        } catch {
          // not all of it yet
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`exited with ${String(code)} before printing: ${stdout}`)),
      );
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { child, summary, exited };
  }

  /** Waits until every lab device holds a certificate from `boot` (its boot count). */
  async function fleetAttested(directory: string, devices: number, boot: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const done = Array.from({ length: devices }, (_, index) => {
        const dir = join(directory, `device-${String(index + 1).padStart(4, '0')}`);
        try {
          const report = JSON.parse(readFileSync(join(dir, 'boot', 'last-boot.json'), 'utf8')) as {
            bootcount: number;
          };
          const held = JSON.parse(readFileSync(join(dir, 'state', 'certificate.json'), 'utf8')) as {
            receivedAt: number;
          };
          return report.bootcount === boot && held.receivedAt > 0;
        } catch {
          return false;
        }
      });
      if (done.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`the lab fleet did not attest: ${done.join()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('starts the service and a simulated fleet that attests, stops on SIGINT, and starts again on the same data', async () => {
    const lab = mkdtempSync(join(tmpdir(), 'orbis-start-'));
    const children: ReturnType<typeof spawn>[] = [];
    try {
      const first = await start(lab);
      children.push(first.child);
      assert.match(first.summary.setupToken ?? '', /^orbis_setup_/);
      assert.ok(first.summary.parts.length > 0);
      const health = await fetch(`${first.summary.api}/readyz`);
      assert.deepEqual(await health.json(), { status: 'ready' });
      const fleet = first.summary.fleet;
      assert.equal(fleet?.devices, 2);
      await fleetAttested(fleet.directory, 2, 1);
      // Every lab device carries the service's two TUF roots, where its update client will start.
      const rootsOf = (device: string) =>
        ['image-repository', 'director'].map((repository) =>
          readFileSync(join(fleet.directory, device, 'tuf', repository, 'root.json'), 'utf8'),
        );
      const [imageRepositoryRoot = '', directorRoot = ''] = rootsOf('device-0001');
      assert.deepEqual(rootsOf('device-0002'), [imageRepositoryRoot, directorRoot]);
      verifyTufRootPair({ imageRepositoryRoot, directorRoot }, Date.now());
      first.child.kill('SIGINT');
      assert.equal(await first.exited, 0);

      // The same lab again: same tenant, the devices boot a second time and attest again.
      const second = await start(lab);
      children.push(second.child);
      assert.equal(second.summary.fleet?.tenantId, fleet.tenantId);
      await fleetAttested(fleet.directory, 2, 2);
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0);

      // A device directory an earlier version made, which this one cannot read: it is renamed
      // aside, kept, and the lab makes that device again instead of refusing to start.
      const manifestPath = join(fleet.directory, 'device-0002', 'device.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { formatVersion: number };
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, formatVersion: 1 }));
      const third = await start(lab);
      children.push(third.child);
      const [aside] = third.summary.fleet?.setAside ?? [];
      assert.ok(aside !== undefined && existsSync(join(aside, 'device.json')));
      assert.equal(third.summary.fleet?.devices, 2);
      third.child.kill('SIGINT');
      assert.equal(await third.exited, 0);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      rmSync(lab, { recursive: true, force: true });
    }
  });
});
