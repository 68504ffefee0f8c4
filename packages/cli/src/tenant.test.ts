import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningService } from '@orbis/service';
import { LAB_PASSWORD, runOrbis, startLab, startLabService } from './lab.test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-tenant-'));
const orbis = (...args: string[]) => runOrbis(dir, ...args);

describe('orbis tenant download-ca against a running service', () => {
  let service: RunningService;
  const tenants: Record<string, string> = {};

  before(async () => {
    const lab = await startLabService(dir);
    service = lab.service;
    const { call } = lab;
    const password = LAB_PASSWORD;
    const operator = lab.operatorToken;
    writeFileSync(join(dir, 'operator.token'), `${operator}\n`);
    for (const name of ['A', 'B'])
      tenants[name] = (await call('POST', '/api/v1/tenants', operator, { name }))['id'] as string;
    await call('POST', `/api/v1/tenants/${tenants['B']!}/members`, operator, {
      email: 'admin@b.example',
      role: 'Administrator',
      initialPassword: password,
    });
    const ofB = (await call('POST', '/api/v1/sessions', undefined, { email: 'admin@b.example', password }))[
      'token'
    ] as string;
    writeFileSync(join(dir, 'b.token'), ofB);
  });
  after(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const download = (tenant: string, token: string, out: string) =>
    orbis(
      'tenant',
      'download-ca',
      '--api',
      service.apiUrl,
      '--token-file',
      token,
      '--tenant',
      tenant,
      '--out',
      out,
      '--json',
    );

  it("writes exactly the tenant's anchors as a PEM bundle openssl reads", async () => {
    const result = await download(tenants['A']!, 'operator.token', 'a.pem');
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { anchors: { keyId: string }[] };
    const pem = readFileSync(join(dir, 'a.pem'), 'utf8');
    assert.equal(pem, (await service.pki.tenantAnchorPems(tenants['A']!, Date.now())).join(''));
    assert.equal(summary.anchors.length, 1);
    const text = execFileSync('openssl', ['x509', '-text', '-noout'], { input: pem }).toString();
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.notEqual(pem, (await service.pki.tenantAnchorPems(tenants['B']!, Date.now())).join(''));
  });

  it('never overwrites a file', async () => {
    writeFileSync(join(dir, 'existing.pem'), 'keep me');
    const result = await download(tenants['A']!, 'operator.token', 'existing.pem');
    assert.equal(result.status, 1);
    assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'CLI_FILE_EXISTS');
    assert.equal(readFileSync(join(dir, 'existing.pem'), 'utf8'), 'keep me');
  });

  it("gives another tenant's administrator the 404 of a tenant that does not exist, and writes nothing", async () => {
    const result = await download(tenants['A']!, 'b.token', 'stolen.pem');
    assert.equal(result.status, 1);
    assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'NOT_FOUND');
    assert.equal(existsSync(join(dir, 'stolen.pem')), false);
  });

  it('starts again on the same data directory with the same platform root and service certificate', async () => {
    const root = service.pki.platformRootPem();
    const tls = service.pki.deviceListenerTls().cert;
    const anchors = await service.pki.tenantAnchorPems(tenants['A']!, Date.now());
    await service.stop();
    service = await startLab(dir);
    assert.equal(service.pki.platformRootPem(), root);
    assert.equal(service.pki.deviceListenerTls().cert, tls);
    assert.deepEqual(await service.pki.tenantAnchorPems(tenants['A']!, Date.now()), anchors);
  });
});
