import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_RENEWAL_INTERVAL_MS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  renewalTime,
  retryDelay,
  type HeldCertificate,
} from './attestation-client.ts';

const HOUR = 3_600_000;

function held(notBefore: number, lifetimeMs: number, receivedAt = notBefore): HeldCertificate {
  return {
    certificate: '',
    anchors: [],
    resultClass: 'trusted',
    osStatus: 'current',
    notBefore,
    notAfter: notBefore + lifetimeMs,
    receivedAt,
  };
}

describe('renewal timing', () => {
  it('renews two thirds into a certificate’s lifetime, well before it expires', () => {
    assert.equal(renewalTime(held(0, 24 * HOUR)), 16 * HOUR);
    assert.equal(renewalTime(held(1000, 3 * 60_000)), 1000 + 2 * 60_000);
  });

  it('counts from arrival, not from the five-minute backdated notBefore', () => {
    const received = 10 * 60_000;
    assert.equal(renewalTime(held(received - 5 * 60_000, 5 * 60_000 + 6000, received)), received + 4000);
  });

  it('re-attests at least every 24 hours, even under a longer certificate', () => {
    assert.equal(renewalTime(held(0, 72 * HOUR)), MAX_RENEWAL_INTERVAL_MS);
  });
});

describe('retries after a failed attestation', () => {
  it('back off exponentially up to a cap, never beyond it', () => {
    const bounds = [0, 1, 2, 3, 10, 50].map((attempt) => retryDelay(attempt, 0.999_999));
    assert.deepEqual(bounds.slice(0, 4), [
      RETRY_BASE_MS - 1,
      2 * RETRY_BASE_MS - 1,
      4 * RETRY_BASE_MS - 1,
      8 * RETRY_BASE_MS - 1,
    ]);
    assert.equal(bounds[4], RETRY_MAX_MS - 1);
    assert.equal(bounds[5], RETRY_MAX_MS - 1);
  });

  it('spread a fleet cut off together over the whole window (full jitter), so it does not return in lockstep', () => {
    const delays = Array.from({ length: 1000 }, (_, index) => retryDelay(6, index / 1000));
    assert.equal(Math.min(...delays), 0);
    assert.ok(Math.max(...delays) > 0.99 * 64 * RETRY_BASE_MS);
    assert.ok(new Set(delays).size > 900);
  });
});
