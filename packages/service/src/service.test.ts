import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDeviceList } from '@orbis/ca';
import { encodeBase64Url, generateSoftwareSigner } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import { opensslVerifyCertificate } from '@orbis/testkit';
import { BACKENDS, createTestDatabase, isPostgresSkipped, type TestDatabase } from './db/test-databases.ts';
import { startService, type RunningService } from './start.ts';
import { createDeviceClient } from './testing/device-client.ts';
import { createSoftwareDevice } from './testing/software-device.ts';

/**
 * The whole service as `orbis serve` starts it (both listeners, the PKI, encrypted keys), driven
 * over real HTTP and HTTPS: a device pins the platform root, attests, and its certificate
 * verifies with `openssl verify` against the tenant anchors downloaded from the API.
 */
const release: BootLogEntry[] = (['bootloader', 'security-monitor', 'os'] as const).map((kind, index) => ({
  kind,
  componentId: `0000000${index}-0000-4000-8000-000000000000`,
  version: '26.1.0',
  securityVersion: 1,
  sha256: String(index + 1).repeat(64),
  signer: 'e'.repeat(64),
}));

function derOfPem(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

for (const backend of BACKENDS) {
  describe(
    `the service end to end (${backend})`,
    { skip: backend === 'postgres' && isPostgresSkipped() },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'orbis-service-'));
      let database: TestDatabase;
      let service: RunningService;
      let token = '';
      let tenantId = '';
      const device = createSoftwareDevice(release);

      async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
        const response = await fetch(`${service.apiUrl}${path}`, {
          method,
          headers: {
            ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return (await response.json()) as Record<string, unknown>;
      }

      before(async () => {
        database = await createTestDatabase(backend);
        service = await startService({
          env: {
            ORBIS_DATA_DIR: join(dir, 'data'),
            ORBIS_DATABASE_URL: database.url,
            ORBIS_API_PORT: '0',
            ORBIS_DEVICE_PORT: '0',
            ORBIS_LOG_LEVEL: 'silent',
          },
          cwd: dir,
          lab: true,
        });
      });

      after(async () => {
        await service.stop();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      });

      it('sets up a platform operator, a tenant, an OS release and a claimed device over the API', async () => {
        const password = 'a password of some length';
        token = (
          await call('POST', '/api/v1/setup', {
            setupToken: service.setupToken,
            email: 'op@example.com',
            password,
          })
        )['token'] as string;
        tenantId = (await call('POST', '/api/v1/tenants', { name: 'A' }))['id'] as string;
        await call('POST', '/api/v1/os-releases', { version: '26.1.0', stages: release });
        const maker = generateSoftwareSigner().signer;
        const manufacturerId = (
          await call('POST', '/api/v1/manufacturers', {
            name: 'M',
            publicKey: encodeBase64Url(maker.publicKey.spki),
          })
        )['id'] as string;
        const list = await signDeviceList(
          {
            formatVersion: 1,
            manufacturerId,
            listId: randomUUID(),
            issuedAt: 0,
            devices: [
              { deviceId: device.deviceId, identityKey: encodeBase64Url(device.identitySpki), model: 'kit' },
            ],
          },
          maker,
        );
        assert.equal(
          (await call('POST', `/api/v1/manufacturers/${manufacturerId}/device-lists`, list))['registered'],
          1,
        );
        assert.equal(
          (
            await call('POST', `/api/v1/tenants/${tenantId}/devices/claims`, { deviceIds: [device.deviceId] })
          )['claimed'],
          1,
        );
      });

      it('attests a device that pins the platform root, and its certificate verifies against the downloaded anchors', async () => {
        const port = Number(new URL(service.deviceUrl).port);
        const client = createDeviceClient({ port, ca: service.pki.platformRootPem() });
        try {
          const challenge = await client.call('POST', '/device/v1/attestation/challenge', {
            deviceId: device.deviceId,
          });
          const nonce = challenge.body['nonce'] as string;
          const result = await client.call('POST', '/device/v1/attestation', {
            deviceId: device.deviceId,
            nonce,
            evidence: device.evidence(nonce, Date.now()),
          });
          assert.equal(result.status, 200, JSON.stringify(result.body));
          assert.equal(result.body['resultClass'], 'trusted');
          const leaf = new Uint8Array(Buffer.from(result.body['certificate'] as string, 'base64'));
          const downloaded = (await call('GET', `/api/v1/tenants/${tenantId}/ca`))['anchors'] as {
            pem: string;
          }[];
          const anchors = downloaded.map((anchor) => derOfPem(anchor.pem));
          assert.ok(
            opensslVerifyCertificate({ anchors, leaf, purpose: 'sslclient', at: Date.now() }).verified,
          );
          assert.deepEqual((result.body['anchors'] as string[]).map(derOfPem), anchors);
        } finally {
          client.close();
        }
      });

      it('keeps the offline keys as separate KeyStore entries that can be exported and removed', async () => {
        const names = (await service.keyStore.list()).map((entry) => entry.name);
        assert.ok(names.includes('platform-root-ca'));
        assert.ok(names.includes('capability') && names.includes('attestation-nonce'));
        for (const name of ['image-repo-root', 'image-repo-targets', 'director-root']) {
          assert.ok(names.includes(name), name);
        }
      });

      it('serves over the API the TUF roots it made at first start, as it hands them to in-process tools', async () => {
        const roots = await call('GET', '/api/v1/updates/roots');
        assert.deepEqual(roots, {
          imageRepository: JSON.parse(service.tufRoots().imageRepository) as unknown,
          director: JSON.parse(service.tufRoots().director) as unknown,
        });
      });
    },
  );
}
