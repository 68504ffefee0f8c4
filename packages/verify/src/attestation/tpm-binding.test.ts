import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJsonBytes, publicKeyFromKeyObject } from '@orbis/crypto';
import type { BootLogEntry } from '@orbis/protocol';
import { extendRegister, replayBootLog, tpmQualifyingData } from './tpm-binding.ts';

const digest = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

const entry = (componentId: string): BootLogEntry => ({
  kind: 'os',
  componentId,
  version: '1.0.0',
  securityVersion: 1,
  sha256: 'a'.repeat(64),
  signer: 'b'.repeat(64),
});

describe('the TPM quote binding', () => {
  it('qualifying data is SHA-256(nonce bytes ‖ certificate-key SPKI ‖ SHA-256(EAT payload))', () => {
    const key = publicKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const nonceBytes = new Uint8Array(38).fill(7);
    const payload = new TextEncoder().encode('{"eat_nonce":"x"}');
    const expected = digest(nonceBytes, key.spki, digest(payload));
    assert.deepEqual(
      tpmQualifyingData(Buffer.from(nonceBytes).toString('base64url'), key, payload),
      expected,
    );
  });

  it('a different nonce, key or payload gives different qualifying data', () => {
    const [a, b] = [0, 1].map(() =>
      publicKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey),
    ) as [ReturnType<typeof publicKeyFromKeyObject>, ReturnType<typeof publicKeyFromKeyObject>];
    const nonce = Buffer.alloc(38, 1).toString('base64url');
    const other = Buffer.alloc(38, 2).toString('base64url');
    const payload = Uint8Array.of(1);
    const base = tpmQualifyingData(nonce, a, payload);
    assert.notDeepEqual(tpmQualifyingData(other, a, payload), base);
    assert.notDeepEqual(tpmQualifyingData(nonce, b, payload), base);
    assert.notDeepEqual(tpmQualifyingData(nonce, a, Uint8Array.of(2)), base);
  });

  it('replays a boot log the way TPM2_PCR_Extend builds PCR 8 from reset', () => {
    const log = [
      entry('11111111-1111-4111-8111-111111111111'),
      entry('22222222-2222-4222-8222-222222222222'),
    ];
    let pcr = new Uint8Array(32);
    for (const item of log) pcr = digest(pcr, digest(canonicalJsonBytes(item)));
    assert.deepEqual(replayBootLog(log), pcr);
    assert.deepEqual(replayBootLog([]), new Uint8Array(32));
    assert.deepEqual(extendRegister(new Uint8Array(32), new Uint8Array(32)), digest(new Uint8Array(64)));
  });
});
