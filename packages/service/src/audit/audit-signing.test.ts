import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { decodeBase64Url, encodeBase64Url, generateSoftwareSigner, p1363ToDer } from '@orbis/crypto';
import { opensslVerifies } from '@orbis/testkit';
import { forEachBackend } from '../db/test-databases.ts';
import { keyStoreAt } from '../pki/pki.test-helpers.ts';
import { listAuditHeads, type AuditHead } from './audit-heads.repo.ts';
import {
  AUDIT_SIGNING_KEY_NAME,
  auditHeadStatement,
  createAuditHeadSigner,
  isValidAuditHeadSignature,
  startAuditSigning,
  verifyAuditExport,
  type AuditExport,
} from './audit-signing.ts';
import { appendAuditEvent, listAuditEvents, type AuditEventInput } from './audit.repo.ts';
import { sampleAuditEvent } from './audit.test-helpers.ts';

const NOW = 1_795_000_000_000;

function event(tenantId: string, index: number): AuditEventInput {
  return sampleAuditEvent(tenantId, index, NOW);
}

forEachBackend('audit-head signing', (context) => {
  const keys = keyStoreAt();
  let clock = NOW;
  const signerFor = async () =>
    createAuditHeadSigner({ db: context.db, keyStore: await keys.open(), clock: { now: () => clock } });

  async function exportOf(tenantId: string): Promise<AuditExport> {
    return {
      tenantId,
      events: await listAuditEvents(context.db, tenantId, { limit: 1000 }),
      heads: await listAuditHeads(context.db, tenantId, { limit: 1000 }),
    };
  }

  it("signs each chain's head once, with the audit-signing key, ES256 over the canonical JSON", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    for (let index = 1; index <= 3; index++) await appendAuditEvent(context.db, event(a, index));
    await appendAuditEvent(context.db, event(b, 1));
    const signer = await signerFor();
    const signed = await signer.signHeads();
    const mine = signed.filter((head) => head.tenantId === a || head.tenantId === b);
    assert.deepEqual(
      mine.map((head) => [head.tenantId, head.seq]).sort(),
      [
        [a, 3],
        [b, 1],
      ].sort(),
    );
    const key = await signer.publicKey();
    assert.equal((await (await keys.open()).getSigner(AUDIT_SIGNING_KEY_NAME)).publicKey.keyId, key.keyId);
    const head = mine.find((found) => found.tenantId === a)!;
    assert.equal(head.keyId, key.keyId);
    assert.equal(head.signedAt, NOW);
    assert.equal(
      new TextDecoder().decode(auditHeadStatement(head)),
      `{"hash":"${head.hash}","seq":3,"signedAt":${NOW},"tenantId":"${a}"}`,
    );
    // openssl agrees on the signature (in DER, as openssl wants it).
    const der = p1363ToDer(decodeBase64Url(head.signature));
    assert.equal(opensslVerifies(key.spki, auditHeadStatement(head), der), true);

    // Nothing new, nothing signed; a new event, a new head.
    assert.deepEqual(
      (await signer.signHeads()).filter((found) => found.tenantId === a),
      [],
    );
    await appendAuditEvent(context.db, event(a, 4));
    clock += 60_000;
    const next = (await signer.signHeads()).filter((found) => found.tenantId === a);
    assert.deepEqual(
      next.map((found) => found.seq),
      [4],
    );
  });

  it('verifies an export offline, and finds a rewritten event, a deleted tail and a forged head', async () => {
    const tenantId = randomUUID();
    for (let index = 1; index <= 4; index++) await appendAuditEvent(context.db, event(tenantId, index));
    const signer = await signerFor();
    await signer.signHeads();
    await appendAuditEvent(context.db, event(tenantId, 5));
    const key = await signer.publicKey();
    const exported = await exportOf(tenantId);
    assert.deepEqual(verifyAuditExport(exported, [key]), { ok: true, lastSeq: 5, lastSignedSeq: 4 });

    const rewritten = exported.events.map((found) =>
      found.seq === 2 ? { ...found, details: { index: 'changed' } } : found,
    );
    assert.deepEqual(verifyAuditExport({ ...exported, events: rewritten }, [key]), {
      ok: false,
      brokenAtSeq: 2,
      reason: 'hash-mismatch',
    });
    assert.deepEqual(verifyAuditExport({ ...exported, events: exported.events.slice(0, 3) }, [key]), {
      ok: false,
      brokenAtSeq: 4,
      reason: 'truncated',
    });
    const [head] = exported.heads as [AuditHead];
    const forger = generateSoftwareSigner().signer;
    const forged = {
      ...head,
      keyId: forger.publicKey.keyId,
      signature: encodeBase64Url(await forger.sign(auditHeadStatement(head), 'p1363')),
    };
    assert.deepEqual(verifyAuditExport({ ...exported, heads: [forged] }, [key]), {
      ok: false,
      brokenAtSeq: 4,
      reason: 'head-signature-invalid',
    });
    assert.equal(isValidAuditHeadSignature({ ...head, seq: 3 }, [key]), false);
    assert.equal(isValidAuditHeadSignature({ ...head, signature: '%%' }, [key]), false);
    assert.equal(isValidAuditHeadSignature(head, [forger.publicKey]), false);
    assert.deepEqual(verifyAuditExport({ ...exported, tenantId: randomUUID() }, [key]), {
      ok: false,
      brokenAtSeq: 1,
      reason: 'foreign-entry',
    });
  });

  it('signs on a timer started by the app and stopped before storage closes', async () => {
    const tenantId = randomUUID();
    await appendAuditEvent(context.db, event(tenantId, 1));
    const task = startAuditSigning(await signerFor(), {
      intervalMs: 20,
      onError: (error) => assert.fail(String(error)),
    });
    for (
      let waited = 0;
      (await listAuditHeads(context.db, tenantId, { limit: 10 })).length === 0;
      waited += 10
    ) {
      assert.ok(waited < 5000, 'no head was signed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await task.stop();
    await appendAuditEvent(context.db, event(tenantId, 2));
    await task.runNow(); // stopped: does nothing
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(
      (await listAuditHeads(context.db, tenantId, { limit: 10 })).map((head) => head.seq),
      [1],
    );
  });
});
