import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startService, type RunningService } from '@orbis/service';

const bin = new URL('./bin/orbis.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'orbis-cli-tenant-'));
const env = {
  ORBIS_DATA_DIR: join(dir, 'data'),
  ORBIS_API_PORT: '0',
  ORBIS_DEVICE_PORT: '0',
  ORBIS_LOG_LEVEL: 'silent',
};

function orbis(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, ORBIS_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('orbis tenant download-ca against a running service', () => {
  let service: RunningService;
  const tenants: Record<string, string> = {};

  before(async () => {
    service = await startService({ env, cwd: dir, lab: true });
    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const response = await fetch(`${service.apiUrl}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    const password = 'a password of some length';
    const operator = (
      await call('POST', '/api/v1/setup', undefined, {
        setupToken: service.setupToken,
        email: 'op@example.com',
        password,
      })
    )['token'] as string;
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
    service = await startService({ env, cwd: dir, lab: true });
    assert.equal(service.pki.platformRootPem(), root);
    assert.equal(service.pki.deviceListenerTls().cert, tls);
    assert.deepEqual(await service.pki.tenantAnchorPems(tenants['A']!, Date.now()), anchors);
  });
});
