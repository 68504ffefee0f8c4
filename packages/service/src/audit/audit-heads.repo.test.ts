import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { forEachBackend } from '../db/test-databases.ts';
import { findLatestAuditHead, insertAuditHead, listAuditHeads } from './audit-heads.repo.ts';
import { appendAuditEvent, verifyAuditChain, type AuditEventInput } from './audit.repo.ts';
import { sampleAuditEvent } from './audit.test-helpers.ts';

const NOW = 1_700_000_000_000;

function event(tenantId: string, index: number): AuditEventInput {
  return sampleAuditEvent(tenantId, index, NOW);
}

forEachBackend('audit-heads.repo', (context) => {
  it('stores signed heads that match the chain, and finds a truncated tail with them', async () => {
    const tenantId = randomUUID();
    const events = [];
    for (let index = 1; index <= 4; index++)
      events.push(await appendAuditEvent(context.db, event(tenantId, index)));
    const head = {
      tenantId,
      seq: 4,
      hash: events[3]!.hash,
      signature: 'sig',
      keyId: 'audit-1',
      signedAt: NOW + 10,
    };
    assert.deepEqual(await insertAuditHead(context.db, head), head);
    await insertAuditHead(context.db, { ...head, seq: 2, hash: events[1]!.hash });
    assert.deepEqual(await findLatestAuditHead(context.db, tenantId), head);
    assert.deepEqual(
      (await listAuditHeads(context.db, tenantId, { limit: 10 })).map((stored) => stored.seq),
      [2, 4],
    );
    await assert.rejects(insertAuditHead(context.db, head), { code: 'AUDIT_HEAD_EXISTS' });
    await assert.rejects(insertAuditHead(context.db, { ...head, seq: 3 }), { code: 'AUDIT_HEAD_MISMATCH' });
    await assert.rejects(insertAuditHead(context.db, { ...head, seq: 5 }), { code: 'AUDIT_HEAD_MISMATCH' });
    assert.equal((await verifyAuditChain(context.db, tenantId)).ok, true);

    // Deleting the tail leaves a valid-looking chain, but the signed head at 4 is beyond it.
    await context.db
      .deleteFrom('audit_log')
      .where('tenant_id', '=', tenantId)
      .where('seq', '>=', 3)
      .execute();
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 3,
      reason: 'truncated',
    });

    // Rewriting the chain after a signed head no longer matches that head.
    const rewritten = await appendAuditEvent(context.db, { ...event(tenantId, 3), actor: 'forger' });
    await appendAuditEvent(context.db, event(tenantId, 4));
    assert.equal(rewritten.seq, 3);
    assert.deepEqual(await verifyAuditChain(context.db, tenantId), {
      ok: false,
      brokenAtSeq: 4,
      reason: 'signed-head-mismatch',
    });
  });
});
