import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeBase64Url, encodePem, generateSoftwareSigner } from '@orbis/crypto';
import { parseImage } from '@orbis/verify';
import type { RunningService } from '@orbis/service';
import { osReleaseSigner, packStageImage } from '../../device/src/boot/boot.test-helpers.ts';
import { runOrbis, startLabService, type LabService } from './lab.test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-device-runtime-'));
const bin = new URL('./bin/orbis.ts', import.meta.url).pathname;
const STAGES = ['bootloader', 'security-monitor', 'os'] as const;

describe('orbis device manufacture and run against a running service', () => {
  let lab: LabService;
  let service: RunningService;
  let manufacturerId = '';
  let tenantId = '';

  before(async () => {
    lab = await startLabService(dir);
    service = lab.service;
    const token = lab.operatorToken;
    tenantId = (await lab.call('POST', '/api/v1/tenants', token, { name: 'A' }))['id'] as string;
    const { signer, exportPkcs8 } = generateSoftwareSigner();
    writeFileSync(join(dir, 'manufacturer.pem'), encodePem(exportPkcs8(), 'PRIVATE KEY'));
    manufacturerId = (
      await lab.call('POST', '/api/v1/manufacturers', token, {
        name: 'M',
        publicKey: encodeBase64Url(signer.publicKey.spki),
      })
    )['id'] as string;
    mkdirSync(join(dir, 'images'));
    const stages = [];
    for (const stage of STAGES) {
      const image = await packStageImage(stage);
      writeFileSync(join(dir, 'images', `${stage}.img`), image);
      const { header } = parseImage(image);
      stages.push({
        kind: stage,
        componentId: header.componentId,
        version: header.version,
        securityVersion: header.securityVersion,
        sha256: createHash('sha256').update(image).digest('hex'),
        signer: osReleaseSigner.publicKey.keyId,
      });
    }
    await lab.call('POST', '/api/v1/os-releases', token, { version: '26.11.0', stages });
    writeFileSync(join(dir, 'platform-root.pem'), service.pki.platformRootPem());
    writeFileSync(join(dir, 'os-release.pub'), encodePem(osReleaseSigner.publicKey.spki, 'PUBLIC KEY'));
    const capability = (await service.keyStore.getSigner('capability')).publicKey;
    writeFileSync(join(dir, 'capability.pub'), encodePem(capability.spki, 'PUBLIC KEY'));
    // The TUF roots, as a factory gets them: `orbis updates roots`.
    writeFileSync(join(dir, 'operator.token'), token);
    const roots = await runOrbis(
      dir,
      'updates',
      'roots',
      '--api',
      service.apiUrl,
      '--token-file',
      'operator.token',
      '--out',
      'roots',
      '--json',
    );
    assert.equal(roots.status, 0, roots.stdout + roots.stderr);
  });

  after(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const manufactureArgs = (out = 'fleet') => [
    'device',
    'manufacture',
    '--out',
    out,
    '--platform-root',
    'platform-root.pem',
    '--os-release-key',
    'os-release.pub',
    '--capability-key',
    'capability.pub',
    '--image-repository-root',
    join('roots', 'image-repository-root.json'),
    '--director-root',
    join('roots', 'director-root.json'),
    '--images',
    'images',
    '--manufacturer-key',
    'manufacturer.pem',
    '--manufacturer-id',
    manufacturerId,
  ];

  it('manufactures devices and a signed list the registry imports, then runs one until it is attested', async () => {
    const made = await runOrbis(dir, ...manufactureArgs(), '--count', '3', '--json');
    assert.equal(made.status, 0, made.stderr);
    const summary = JSON.parse(made.stdout) as {
      deviceList: string;
      devices: { dir: string; deviceId: string }[];
    };
    assert.equal(summary.devices.length, 3);
    const list = JSON.parse(readFileSync(join(dir, summary.deviceList), 'utf8')) as unknown;
    const imported = await lab.call(
      'POST',
      `/api/v1/manufacturers/${manufacturerId}/device-lists`,
      lab.operatorToken,
      list,
    );
    assert.equal(imported['registered'], 3, JSON.stringify(imported));
    const [first] = summary.devices;
    assert.ok(first !== undefined);
    // The service's TUF roots, where the device's update client will start from.
    for (const [file, text] of [
      [join('tuf', 'image-repository', 'root.json'), service.tufRoots().imageRepository],
      [join('tuf', 'director', 'root.json'), service.tufRoots().director],
    ] as const) {
      assert.deepEqual(JSON.parse(readFileSync(join(dir, first.dir, file), 'utf8')), JSON.parse(text));
    }
    await lab.call('POST', `/api/v1/tenants/${tenantId}/devices/claims`, lab.operatorToken, {
      deviceIds: [first.deviceId],
    });
    // `orbis device run` prints what the device does; it stops cleanly on SIGTERM.
    assert.match(await runUntilAttested(first.dir), /^booted \(bootcount 1\)/m);
  });

  /** Runs `orbis device run` until the device prints its first trusted certificate, then SIGTERM. */
  async function runUntilAttested(deviceDir: string): Promise<string> {
    const child = spawn(process.execPath, [bin, 'device', 'run', deviceDir, '--service', service.deviceUrl], {
      cwd: dir,
    });
    let output = '';
    const attested = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('attested: trusted certificate until')) resolve();
      });
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await Promise.race([attested, exited]);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    return output;
  }

  it('manufactures TPM-backed devices, each with its own swtpm, listed with their TPM public areas, and runs one', async () => {
    const made = await runOrbis(
      dir,
      ...manufactureArgs('tpm-fleet'),
      '--rot',
      'tpm',
      '--count',
      '2',
      '--json',
    );
    assert.equal(made.status, 0, made.stdout + made.stderr);
    const summary = JSON.parse(made.stdout) as {
      deviceList: string;
      devices: { dir: string; deviceId: string }[];
    };
    const list = JSON.parse(readFileSync(join(dir, summary.deviceList), 'utf8')) as {
      list: { devices: { tpmPublic?: string }[] };
    };
    assert.equal(list.list.devices.filter((entry) => typeof entry.tpmPublic === 'string').length, 2);
    const imported = await lab.call(
      'POST',
      `/api/v1/manufacturers/${manufacturerId}/device-lists`,
      lab.operatorToken,
      list,
    );
    assert.equal(imported['registered'], 2, JSON.stringify(imported));
    const [first] = summary.devices;
    assert.ok(first !== undefined);
    const manifest = JSON.parse(readFileSync(join(dir, first.dir, 'device.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual([manifest['backend'], manifest['swtpmState']], ['tpm', 'swtpm']);
    await lab.call('POST', `/api/v1/tenants/${tenantId}/devices/claims`, lab.operatorToken, {
      deviceIds: [first.deviceId],
    });
    assert.match(await runUntilAttested(first.dir), /^booted \(bootcount 1\)/m);
  });

  it('refuses a root of trust it does not know, and --tpm without --rot tpm', async () => {
    for (const args of [
      ['--rot', 'hsm'],
      ['--tpm', 'swtpm:host=127.0.0.1,port=2321'],
      ['--rot', 'tpm', '--tpm', 'mssim:host=localhost'],
    ]) {
      const refused = await runOrbis(dir, ...manufactureArgs('refused'), ...args, '--json');
      assert.equal(refused.status, 1, args.join(' '));
      assert.equal(
        (JSON.parse(refused.stdout) as { error: { code: string } }).error.code,
        'CLI_OPTION_INVALID',
      );
    }
  });

  it('refuses to manufacture without a TUF root, or with one whose signature does not verify (a tampered root), with codes', async () => {
    const args = manufactureArgs('rootless');
    const withoutDirector = args.filter(
      (arg, index) => arg !== '--director-root' && args[index - 1] !== '--director-root',
    );
    const missing = await runOrbis(dir, ...withoutDirector, '--json');
    assert.equal(missing.status, 1);
    assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'CLI_USAGE_INVALID');
    const tampered = JSON.parse(service.tufRoots().director) as { signed: { version: number } };
    tampered.signed.version = 2;
    writeFileSync(join(dir, 'tampered-root.json'), JSON.stringify(tampered));
    const refused = await runOrbis(
      dir,
      ...withoutDirector,
      '--director-root',
      'tampered-root.json',
      '--json',
    );
    assert.equal(refused.status, 1);
    assert.equal(
      (JSON.parse(refused.stdout) as { error: { code: string } }).error.code,
      'AGENT_TUF_ROOT_INVALID',
    );
  });

  it('refuses to manufacture over an existing device, and a count out of range, with codes', async () => {
    const again = await runOrbis(dir, ...manufactureArgs(), '--json');
    assert.equal(again.status, 1);
    assert.equal(
      (JSON.parse(again.stdout) as { error: { code: string } }).error.code,
      'AGENT_DEVICE_DIRECTORY_EXISTS',
    );
    const tooMany = await runOrbis(dir, ...manufactureArgs(), '--count', '0', '--json');
    assert.equal(
      (JSON.parse(tooMany.stdout) as { error: { code: string } }).error.code,
      'CLI_OPTION_INVALID',
    );
  });
});
