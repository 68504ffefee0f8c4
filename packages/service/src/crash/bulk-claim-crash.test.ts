import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../app.ts';
import { listAuditEvents, verifyAuditChain } from '../audit/audit.repo.ts';
import { parseConfig } from '../config.ts';
import { chunked } from '../db/backend.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { BACKENDS, createTestDatabase, isPostgresSkipped, type Backend } from '../db/test-databases.ts';
import { createServiceFixture, httpCaller } from '../testing/service-fixture.ts';
import { createFleetIdentities, registerFleet } from './fleet.ts';
import { progressOf, runAndKill, assertKilledMidway } from './kill-child.ts';
import { assertStorageIntact, reopenAfterCrash } from './restart.ts';

/**
 * SIGKILL during a bulk claim through the claim route (claim, default group and audit event in
 * one transaction per batch): after a restart no batch is half-claimed, every batch the
 * service reported is claimed, the audit log holds one event per claimed batch and its chain
 * verifies, and the restarted service claims the next batch.
 */
const DEVICES = 5000;
/**
 * Devices per claim request. The route writes every claimed ID into its audit event, which
 * MAX_AUDIT_EVENT_BYTES (16 KiB) caps at about 240 IDs, so larger claims are refused.
 */
const BATCH = 200;
const CHILD = fileURLToPath(new URL('children/claim-batches.ts', import.meta.url));

interface ClaimRow {
  device_id: string;
  tenant_id: string | null;
  claimed_at: number | null;
  group_id: string | null;
}

async function claimState(handle: DatabaseHandle): Promise<Map<string, ClaimRow>> {
  const rows = await handle.db
    .selectFrom('devices')
    .select(['device_id', 'tenant_id', 'claimed_at', 'group_id'])
    .execute();
  return new Map(rows.map((row) => [row.device_id, row]));
}

/** How many batches, from the first, are fully claimed; fails on any batch claimed in part. */
function countClaimedBatches(batches: string[][], state: Map<string, ClaimRow>, tenantId: string): number {
  const claimed = batches.map((batch, index) => {
    const rows = batch.map((deviceId) => state.get(deviceId));
    const full = rows.filter(
      (row) => row?.tenant_id === tenantId && row.claimed_at !== null && row.group_id !== null,
    );
    const none = rows.filter(
      (row) => row?.tenant_id === null && row.claimed_at === null && row.group_id === null,
    );
    assert.ok(
      full.length === batch.length || none.length === batch.length,
      `batch ${index} is half-claimed: ${full.length} of ${batch.length} claimed, ${none.length} unclaimed`,
    );
    return full.length === batch.length;
  });
  const count = claimed.indexOf(false) === -1 ? claimed.length : claimed.indexOf(false);
  assert.deepEqual(
    claimed.slice(count),
    Array<boolean>(batches.length - count).fill(false),
    'claimed batches skip one',
  );
  return count;
}

async function crashDuringBulkClaim(backend: Backend, diagnostic: (message: string) => void): Promise<void> {
  const database = await createTestDatabase(backend);
  const scratch = mkdtempSync(join(tmpdir(), 'orbis-crash-claim-'));
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openDatabase({ url: database.url });
    const fixture = await createServiceFixture({ backend, url: database.url, handle, db: handle.db });
    await fixture.api.close();
    const tenantId = fixture.tenants.A;
    const token = fixture.tokens['A-Administrator'] ?? '';
    const identities = createFleetIdentities(DEVICES);
    await registerFleet(handle.db, identities, Date.now());
    await handle.close();
    handle = undefined;

    const batches = chunked(
      identities.map((identity) => identity.deviceId),
      BATCH,
    );
    writeFileSync(join(scratch, 'batches.json'), JSON.stringify(batches));
    const killAfter = randomInt(0, Math.floor(batches.length / 2));
    const delayMs = randomInt(0, 20);
    diagnostic(`SIGKILL ${delayMs} ms after batch ${killAfter} of ${batches.length} is claimed`);
    const child = await runAndKill({
      script: CHILD,
      env: {
        ORBIS_CRASH_DATABASE_URL: database.url,
        ORBIS_CRASH_TENANT_ID: tenantId,
        ORBIS_CRASH_TOKEN: token,
        ORBIS_CRASH_BATCHES: join(scratch, 'batches.json'),
      },
      killAfter: (line) => line === `claimed ${killAfter}`,
      delayMs,
      timeoutMs: 30_000,
    });
    assertKilledMidway(child, `claimed batch ${killAfter}`);

    handle = await reopenAfterCrash(database);
    await assertStorageIntact(handle);
    const claimed = countClaimedBatches(batches, await claimState(handle), tenantId);
    const reported = Math.max(...progressOf(child.lines, 'claimed'));
    const started = Math.max(...progressOf(child.lines, 'claiming'));
    diagnostic(
      `batches reported claimed: ${reported + 1}; started: ${started + 1}; claimed after restart: ${claimed}`,
    );
    // Every batch the service answered for is durable; the one in flight is all or nothing.
    assert.ok(claimed >= reported + 1 && claimed <= started + 1, `${claimed} batches claimed`);

    const events = await listAuditEvents(handle.db, tenantId, { limit: 1000 });
    const claimEvents = events.filter((event) => event.action === 'device.claim');
    assert.deepEqual(
      claimEvents.map((event) => event.details['deviceIds']),
      batches.slice(0, claimed),
    );
    assert.deepEqual(await verifyAuditChain(handle.db, tenantId), {
      ok: true,
      lastSeq: events.length,
      lastHash: events.at(-1)?.hash,
    });

    // The restarted service carries on where the killed one stopped.
    const app = await buildApp(parseConfig({ ORBIS_LOG_LEVEL: 'silent' }, tmpdir()), {
      database: { ...handle, close: () => Promise.resolve() },
      clock: { now: Date.now },
    });
    const next = await httpCaller(app.api)('POST', `/api/v1/tenants/${tenantId}/devices/claims`, token, {
      deviceIds: batches[claimed],
    });
    await app.close();
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.equal(countClaimedBatches(batches, await claimState(handle), tenantId), claimed + 1);
    assert.equal((await verifyAuditChain(handle.db, tenantId)).ok, true);
  } finally {
    await handle?.close();
    await database.drop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

for (const backend of BACKENDS) {
  const skip = backend === 'postgres' && isPostgresSkipped() ? 'ORBIS_TEST_SKIP_POSTGRES=1' : false;
  describe(`crash during a bulk claim (${backend})`, { skip }, () => {
    it(`leaves no half-claimed batch after SIGKILL during a bulk claim (${backend})`, (t) =>
      crashDuringBulkClaim(backend, (message) => t.diagnostic(message)));
  });
}
