import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner } from '@orbis/crypto';
import type { RunningService } from '@orbis/service';
import { runOrbis, startLabService } from './lab.test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-device-'));
const devices = Array.from({ length: 1500 }, () => generateSoftwareSigner().signer.publicKey);
const orbis = (...args: string[]) => runOrbis(dir, ...args);

describe('orbis device claim, list, disable and enable against a running service', () => {
  let service: RunningService;
  let tenantId = '';
  let common: string[] = [];

  before(async () => {
    const lab = await startLabService(dir);
    service = lab.service;
    const { call } = lab;
    const token = lab.operatorToken;
    tenantId = (await call('POST', '/api/v1/tenants', token, { name: 'A' }))['id'] as string;
    const manufacturerKey = generateSoftwareSigner().signer;
    const manufacturerId = (
      await call('POST', '/api/v1/manufacturers', token, {
        name: 'M',
        publicKey: encodeBase64Url(manufacturerKey.publicKey.spki),
      })
    )['id'] as string;
    const list = await signDeviceList(
      {
        formatVersion: 1,
        manufacturerId,
        listId: randomUUID(),
        issuedAt: 0,
        devices: devices.map((key) => ({
          deviceId: key.keyId,
          identityKey: encodeBase64Url(key.spki),
          model: 'kit',
        })),
      },
      manufacturerKey,
    );
    await call('POST', `/api/v1/manufacturers/${manufacturerId}/device-lists`, token, list);
    writeFileSync(join(dir, 'token'), token);
    common = ['--tenant', tenantId, '--api', service.apiUrl, '--token-file', 'token'];
  });

  after(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims devices in bulk from a file, in batches, showing progress', async () => {
    writeFileSync(
      join(dir, 'ids.txt'),
      `# devices from the line\n${devices.map((key) => key.keyId).join('\n')}\n`,
    );
    const result = await orbis('device', 'claim', '--file', 'ids.txt', ...common);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'claimed 1500 devices');
    assert.match(result.stderr, /claimed 1000 of 1500/);
    const listed = JSON.parse((await orbis('device', 'list', ...common, '--json')).stdout) as {
      devices: unknown[];
    };
    assert.equal(listed.devices.length, 1500);
  });

  it('disables and enables a device, and prints a table for people', async () => {
    const id = devices[0]?.keyId ?? '';
    assert.match((await orbis('device', 'disable', id, ...common)).stdout, /disabled/);
    const table = (await orbis('device', 'list', ...common)).stdout;
    assert.match(table, /^device +model +state +last attested/);
    assert.match(table, new RegExp(`${id} +kit +disabled +never`));
    assert.match((await orbis('device', 'enable', id, ...common)).stdout, /enabled/);
  });

  it('reports the service’s own error code, and a bad ID file with its line', async () => {
    const again = await orbis('device', 'claim', '--device', devices[1]?.keyId ?? '', ...common, '--json');
    assert.equal(
      (JSON.parse(again.stdout) as { error: { code: string } }).error.code,
      'CLAIM_DEVICE_ALREADY_CLAIMED',
    );
    writeFileSync(join(dir, 'bad.txt'), `${devices[2]?.keyId ?? ''}\nnot-an-id\n`);
    const bad = await orbis('device', 'claim', '--file', 'bad.txt', ...common);
    assert.match(bad.stderr, /CLI_DEVICE_ID_INVALID: bad.txt: line 2/);
    const noToken = await orbis('device', 'list', '--tenant', tenantId, '--api', service.apiUrl, '--json');
    assert.equal((JSON.parse(noToken.stdout) as { error: { code: string } }).error.code, 'CLI_TOKEN_MISSING');
  });
});
