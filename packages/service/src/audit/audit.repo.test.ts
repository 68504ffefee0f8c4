import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { openDatabase } from '../db/database.ts';
import { forEachBackend } from '../db/test-databases.ts';
import { findTenant, insertTenant } from '../tenants/tenants.repo.ts';
import {
  GENESIS_AUDIT_HASH,
  MAX_AUDIT_EVENT_BYTES,
  PLATFORM_AUDIT_CHAIN,
  appendAuditEvent,
  computeAuditEventHash,
  findAuditChainHead,
  listAuditEvents,
  verifyAuditChain,
  type AuditEventInput,
} from './audit.repo.ts';
import { sampleAuditEvent } from './audit.test-helpers.ts';

const NOW = 1_700_000_000_000;

function event(tenantId: string, index: number): AuditEventInput {
  return sampleAuditEvent(tenantId, index, NOW, { index, note: 'é', nested: { b: 2, a: [1, 'x'] } });
}

/** Appends `count` events to the chain from another process: a second SQLite writer. */
function appendFromChildProcess(url: string, tenantId: string, count: number): Promise<void> {
  const script = `
    const { openDatabase } = await import(${JSON.stringify(new URL('../db/database.ts', import.meta.url).href)});
    const { appendAuditEvent } = await import(${JSON.stringify(new URL('./audit.repo.ts', import.meta.url).href)});
    const handle = await openDatabase({ url: ${JSON.stringify(url)} });
    await Promise.all(Array.from({ length: ${count} }, (_, index) => appendAuditEvent(handle.db, {
      tenantId: ${JSON.stringify(tenantId)}, at: index, actor: 'child', action: 'test.append',
      target: String(index), source: 'child', details: { index } })));
    await handle.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '--eval', script], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`the child exited with ${String(code)}`)),
    );
  });
}

forEachBackend('audit.repo', (context) => {
  it('chains events: seq from 1, each hash over the previous hash and the canonical event', async () => {
    const tenantId = randomUUID();
    const first = await appendAuditEvent(context.db, event(tenantId, 1));
    const second = await appendAuditEvent(context.db, event(tenantId, 2));
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, GENESIS_AUDIT_HASH);
    assert.equal(second.seq, 2);
    assert.equal(second.prevHash, first.hash);
    // The documented formula, recomputed by hand: SHA-256(prev hex ‖ RFC 8785 JSON).
    const canonical =
      `{"action":"device.claim","actor":"user:ada","at":${NOW + 1},` +
      `"details":{"index":1,"nested":{"a":[1,"x"],"b":2},"note":"é"},"seq":1,"source":"192.0.2.1",` +
      `"target":"device:1","tenantId":"${tenantId}"}`;
    assert.equal(
      first.hash,
      createHash('sha256')
        .update(GENESIS_AUDIT_HASH + canonical, 'utf8')
        .digest('hex'),
    );
    assert.equal(computeAuditEventHash(first.hash, second), second.hash);
    assert.deepEqual(await findAuditChainHead(context.db, tenantId), { seq: 2, hash: second.hash });
    assert.deepEqual(await listAuditEvents(context.db, tenantId, { limit: 10 }), [first, second]);
    assert.deepEqual(await listAuditEvents(context.db, tenantId, { afterSeq: 1, limit: 10 }), [second]);
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: true,
      lastSeq: 2,
      lastHash: second.hash,
    });
  });

  it('keeps one chain per tenant, and one for the platform', async () => {
    const tenantId = randomUUID();
    const platform = await appendAuditEvent(context.db, event(PLATFORM_AUDIT_CHAIN, 1));
    const tenant = await appendAuditEvent(context.db, event(tenantId, 1));
    assert.equal(tenant.seq, 1);
    assert.equal(platform.seq, (await findAuditChainHead(context.db, PLATFORM_AUDIT_CHAIN))?.seq);
    assert.equal((await verifyAuditChain(context.db, PLATFORM_AUDIT_CHAIN)).ok, true);
    assert.deepEqual(await verifyAuditChain(context.db, randomUUID()), {
      ok: true,
      lastSeq: 0,
      lastHash: GENESIS_AUDIT_HASH,
    });
  });

  it('keeps 200 concurrent appends in one unbroken chain, seq 1 to 200', async () => {
    const tenantId = randomUUID();
    const other = context.backend === 'postgres' ? await openDatabase({ url: context.url }) : undefined;
    try {
      // PostgreSQL: two pools, as two replicas. SQLite: a second process writing to the file.
      const second =
        other === undefined
          ? appendFromChildProcess(context.url, tenantId, 100)
          : Promise.all(
              Array.from({ length: 100 }, (_, index) =>
                appendAuditEvent(other.db, event(tenantId, 100 + index)),
              ),
            );
      await Promise.all([
        ...Array.from({ length: 100 }, (_, index) => appendAuditEvent(context.db, event(tenantId, index))),
        second,
      ]);
    } finally {
      await other?.close();
    }
    const events = [
      ...(await listAuditEvents(context.db, tenantId, { limit: 150 })),
      ...(await listAuditEvents(context.db, tenantId, { afterSeq: 150, limit: 150 })),
    ];
    assert.deepEqual(
      events.map((stored) => stored.seq),
      Array.from({ length: 200 }, (_, index) => index + 1),
    );
    const verification = await verifyAuditChain(context.db, tenantId);
    assert.deepEqual(verification, { ok: true, lastSeq: 200, lastHash: events[199]!.hash });
  });

  it('commits the audit event with the change it records, or neither', async () => {
    const tenantId = randomUUID();
    await assert.rejects(
      context.db.transaction().execute(async (trx) => {
        await insertTenant(trx, { id: tenantId, name: 'T', createdAt: NOW });
        await appendAuditEvent(trx, event(tenantId, 1));
        throw new Error('later failure');
      }),
      /later failure/,
    );
    assert.equal(await findAuditChainHead(context.db, tenantId), undefined);
    assert.equal(await findTenant(context.db, tenantId), undefined);
  });

  it('finds an edited event, a deleted event and an edited hash', async () => {
    const tenantId = randomUUID();
    for (let index = 1; index <= 5; index++) await appendAuditEvent(context.db, event(tenantId, index));

    await context.db
      .updateTable('audit_log')
      .set({ details: '{"index":99}' })
      .where('tenant_id', '=', tenantId)
      .where('seq', '=', 3)
      .execute();
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 3,
      reason: 'hash-mismatch',
    });

    await context.db
      .updateTable('audit_log')
      .set({ details: 'not json' })
      .where('tenant_id', '=', tenantId)
      .where('seq', '=', 3)
      .execute();
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 3,
      reason: 'details-invalid',
    });
    await assert.rejects(listAuditEvents(context.db, tenantId, { limit: 5 }), { code: 'DB_QUERY_FAILED' });

    // Recompute event 2's hash after an edit: then event 3 no longer follows it.
    const [two] = await listAuditEvents(context.db, tenantId, { afterSeq: 1, limit: 1 });
    const edited = { ...two!, actor: 'someone else' };
    await context.db
      .updateTable('audit_log')
      .set({ actor: edited.actor, hash: computeAuditEventHash(edited.prevHash, edited) })
      .where('tenant_id', '=', tenantId)
      .where('seq', '=', 2)
      .execute();
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 3,
      reason: 'prev-hash-mismatch',
    });

    await context.db.deleteFrom('audit_log').where('tenant_id', '=', tenantId).where('seq', '=', 1).execute();
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 1,
      reason: 'seq-gap',
    });
  });

  it('refuses details that are not a JSON object or too large, with AUDIT_EVENT_INVALID', async () => {
    const tenantId = randomUUID();
    const invalid: unknown[] = [
      [1, 2],
      null,
      { n: Number.NaN },
      { f: () => 1 },
      { big: 'x'.repeat(MAX_AUDIT_EVENT_BYTES) },
    ];
    for (const details of invalid) {
      await assert.rejects(
        appendAuditEvent(context.db, { ...event(tenantId, 1), details: details as never }),
        {
          code: 'AUDIT_EVENT_INVALID',
        },
      );
    }
    assert.equal(await findAuditChainHead(context.db, tenantId), undefined);
  });
});
