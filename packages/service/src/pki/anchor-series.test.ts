import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CA_BACKDATE_MS,
  DAY_MS,
  generationOf,
  planNextAnchor,
  publishedRows,
  signingRow,
} from './anchor-series.ts';
import type { StoredCertificate } from './ca-certificates.repo.ts';

const T0 = Date.UTC(2026, 10, 22, 12);

function row(id: string, notBefore: number, notAfter: number, signsFrom: number): StoredCertificate {
  const base = {
    kind: 'tenant',
    tenantId: 't',
    der: new Uint8Array(0),
    subjectKeyId: '00',
    keyRef: id,
  } as const;
  return { ...base, id, notBefore, notAfter, signsFrom, createdAt: notBefore };
}

describe('anchor series', () => {
  const first = row('tenant-ca.t.1', T0, T0 + 730 * DAY_MS, T0);

  it('plans a first anchor that signs at once, backdated an hour, for the lifetime asked', () => {
    assert.deepEqual(planNextAnchor([], T0, 730), {
      generation: 1,
      notBefore: T0 - CA_BACKDATE_MS,
      notAfter: T0 - CA_BACKDATE_MS + 730 * DAY_MS,
      signsFrom: T0,
    });
  });

  it('plans the next anchor from 90 days before expiry, signing 45 days before it', () => {
    const expiry = first.notAfter;
    assert.equal(planNextAnchor([first], expiry - 90 * DAY_MS - 1, 730), undefined);
    const plan = planNextAnchor([first], expiry - 90 * DAY_MS, 730);
    assert.ok(plan !== undefined);
    assert.equal(plan.generation, 2);
    assert.equal(plan.signsFrom, expiry - 45 * DAY_MS);
    // A late pass (the service was down) still hands over 45 days before expiry, or at once after that.
    assert.equal(planNextAnchor([first], expiry - 60 * DAY_MS, 730)?.signsFrom, expiry - 45 * DAY_MS);
    assert.equal(planNextAnchor([first], expiry - 10 * DAY_MS, 730)?.signsFrom, expiry - 10 * DAY_MS);
    assert.equal(planNextAnchor([first], expiry + DAY_MS, 730)?.signsFrom, expiry + DAY_MS);
  });

  it('publishes every anchor not yet expired, current first, and signs with the newest that has begun', () => {
    const expiry = first.notAfter;
    const next = row('tenant-ca.t.2', expiry - 90 * DAY_MS, expiry + 640 * DAY_MS, expiry - 45 * DAY_MS);
    const rows = [next, first];
    assert.deepEqual(
      publishedRows(rows, expiry - 50 * DAY_MS).map((r) => r.id),
      [first.id, next.id],
    );
    assert.deepEqual(
      publishedRows(rows, expiry).map((r) => r.id),
      [next.id],
    );
    assert.equal(signingRow(rows, expiry - 46 * DAY_MS)?.id, first.id);
    assert.equal(signingRow(rows, expiry - 45 * DAY_MS)?.id, next.id);
    assert.equal(signingRow(rows, next.notAfter), undefined);
    assert.equal(signingRow(rows, T0 - 1), undefined);
  });

  it('reads generations from row IDs, and nothing else', () => {
    assert.equal(generationOf('tenant-ca.7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8.12'), 12);
    assert.equal(generationOf('service-tls'), 0);
    assert.equal(generationOf('update-ca.0'), 0);
  });
});
