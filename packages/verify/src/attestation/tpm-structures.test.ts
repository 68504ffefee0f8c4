import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { publicKeyFromKeyObject } from '@orbis/crypto';
import { AttestationError } from '../errors.ts';
import { TpmStructureError } from './tpm-reader.ts';
import {
  assertRestrictedSigningKey,
  isRestrictedSigningKey,
  parseEcdsaSignature,
  parseQuoteAttest,
  parseTpmIdentityPublic,
} from './tpm-structures.ts';
import {
  ATTRIBUTE,
  concat,
  IDENTITY_ATTRIBUTES,
  marshalAttest,
  marshalPublic,
  marshalPublicArea,
  marshalSignature,
  pcrBitmap,
  rawPoint,
  sha256,
  tpm2b,
  u16,
  u32,
  type AttestFields,
  type PublicAreaFields,
} from './tpm.test-helpers.ts';

const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const area = marshalPublicArea(key);
const tpmPublic = tpm2b(area);

/** Every strict prefix and the whole with one byte more are refused, as TpmStructureError. */
function assertTruncationsAndTrailingRefused(bytes: Uint8Array, parse: (bytes: Uint8Array) => unknown): void {
  for (let length = 0; length < bytes.byteLength; length += 1) {
    assert.throws(() => parse(bytes.subarray(0, length)), TpmStructureError, `truncated to ${length} bytes`);
  }
  assert.throws(() => parse(concat(bytes, Uint8Array.of(0))), TpmStructureError, 'a trailing byte');
}

describe('parseTpmIdentityPublic reads the public area tpm2_create writes', () => {
  it('returns the attributes, the canonical key, the TPM name and the bytes', () => {
    const parsed = parseTpmIdentityPublic(tpmPublic);
    assert.equal(parsed.objectAttributes, IDENTITY_ATTRIBUTES);
    assert.equal(parsed.publicKey.keyId, publicKeyFromKeyObject(createPublicKey(key)).keyId);
    assert.deepEqual(parsed.name, concat(u16(0x000b), sha256(area)));
    assert.deepEqual(parsed.bytes, tpmPublic);
    assert.notEqual(parsed.bytes.buffer, tpmPublic.buffer, 'the bytes are a copy');
  });

  it('accepts an authPolicy of any digest size up to 64 bytes', () => {
    for (const size of [0, 20, 32, 48, 64]) {
      const parsed = parseTpmIdentityPublic(marshalPublic(key, { authPolicy: new Uint8Array(size).fill(5) }));
      assert.equal(parsed.objectAttributes, IDENTITY_ATTRIBUTES);
    }
    assert.throws(
      () => parseTpmIdentityPublic(marshalPublic(key, { authPolicy: new Uint8Array(65) })),
      TpmStructureError,
    );
  });
});

describe('parseTpmIdentityPublic refuses every other key profile', () => {
  const { x, y } = rawPoint(key);
  const cases: Record<string, Partial<PublicAreaFields>> = {
    'an RSA key': { type: 0x0001 },
    'a keyedhash object': { type: 0x0008 },
    'nameAlg SHA-1': { nameAlg: 0x0004 },
    'nameAlg SHA-384': { nameAlg: 0x000c },
    'a storage key (AES-128 CFB)': { symmetric: concat(u16(0x0006), u16(128), u16(0x0043)) },
    'scheme ECDSA with SHA-384': { scheme: concat(u16(0x0018), u16(0x000c)) },
    'scheme ECDAA': { scheme: concat(u16(0x001a), u16(0x000b), u16(0)) },
    'scheme NULL': { scheme: u16(0x0010) },
    'curve P-384': { curve: 0x0004 },
    'a KDF (KDF1-SP800-108)': { kdf: concat(u16(0x0022), u16(0x000b)) },
    'a 31-byte x': { unique: concat(tpm2b(x.subarray(1)), tpm2b(y)) },
    'a 33-byte x': { unique: concat(tpm2b(concat(Uint8Array.of(0), x)), tpm2b(y)) },
    'an empty point': { unique: concat(tpm2b(new Uint8Array(0)), tpm2b(new Uint8Array(0))) },
    'a point off the curve': { unique: concat(tpm2b(x), tpm2b(x)) },
  };
  for (const [name, fields] of Object.entries(cases)) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseTpmIdentityPublic(marshalPublic(key, fields)), TpmStructureError);
    });
  }

  it('refuses a TPM2B_PUBLIC truncated anywhere or with trailing bytes, outside or inside', () => {
    assertTruncationsAndTrailingRefused(tpmPublic, parseTpmIdentityPublic);
    // The same, with the outer size rewritten to agree: the public area itself must be whole.
    assertTruncationsAndTrailingRefused(area, (inner) => parseTpmIdentityPublic(tpm2b(inner)));
  });

  it('refuses a public area larger than MAX_TPM_PUBLIC_BYTES before reading it', () => {
    assert.throws(() => parseTpmIdentityPublic(tpm2b(new Uint8Array(513))), /publicArea is 513 bytes/);
  });
});

describe('assertRestrictedSigningKey', () => {
  it('accepts the identity key tpm2_create makes, with or without userWithAuth', () => {
    assert.equal(isRestrictedSigningKey({ objectAttributes: IDENTITY_ATTRIBUTES }), true);
    assert.equal(isRestrictedSigningKey({ objectAttributes: IDENTITY_ATTRIBUTES & ~0x40 }), true);
    assertRestrictedSigningKey({ objectAttributes: IDENTITY_ATTRIBUTES });
  });

  it('refuses a key missing any of fixedTPM, fixedParent, sensitiveDataOrigin, restricted or sign', () => {
    for (const [name, bit] of Object.entries(ATTRIBUTE)) {
      if (name === 'decrypt') continue;
      const pub = { objectAttributes: IDENTITY_ATTRIBUTES & ~bit };
      assert.equal(isRestrictedSigningKey(pub), false, name);
      assert.throws(
        () => assertRestrictedSigningKey(pub),
        (error) => {
          assert.ok(error instanceof AttestationError);
          assert.equal(error.code, 'ATTESTATION_TPM_KEY_NOT_RESTRICTED');
          return true;
        },
      );
    }
  });

  it('refuses a restricted key that can also decrypt', () => {
    const pub = { objectAttributes: IDENTITY_ATTRIBUTES | ATTRIBUTE.decrypt };
    assert.equal(isRestrictedSigningKey(pub), false);
    assert.throws(() => assertRestrictedSigningKey(pub), { code: 'ATTESTATION_TPM_KEY_NOT_RESTRICTED' });
  });
});

describe('parseQuoteAttest', () => {
  const fields: AttestFields = {
    magic: 0xff544347,
    type: 0x8018,
    qualifiedSigner: concat(u16(0x000b), new Uint8Array(32).fill(4)),
    extraData: new Uint8Array(32).fill(5),
    clock: 0x0102_0304_0506_0708n,
    resetCount: 3,
    restartCount: 0xffff_ffff,
    safe: 0,
    firmwareVersion: 0xfedc_ba98_7654_3210n,
    banks: [{ hash: 0x000b, select: pcrBitmap(8) }],
    pcrDigest: new Uint8Array(32).fill(6),
  };
  const attest = marshalAttest(fields);

  it('reads every field of a quote', () => {
    assert.deepEqual(parseQuoteAttest(attest), {
      qualifiedSigner: fields.qualifiedSigner,
      extraData: fields.extraData,
      clockInfo: { clock: fields.clock, resetCount: 3, restartCount: 0xffff_ffff, safe: false },
      firmwareVersion: fields.firmwareVersion,
      pcrSelection: [{ hash: 0x000b, pcrs: [8] }],
      pcrDigest: fields.pcrDigest,
    });
    assert.equal(parseQuoteAttest(marshalAttest({ ...fields, safe: 1 })).clockInfo.safe, true);
  });

  it('reads each bank and each PCR of a selection, bit j of byte i as PCR 8i + j', () => {
    const banks = [
      { hash: 0x000b, select: pcrBitmap(0, 7, 8, 23) },
      { hash: 0x0004, select: new Uint8Array(0) },
      { hash: 0x000c, select: new Uint8Array(32).fill(0x80) },
    ];
    const parsed = parseQuoteAttest(marshalAttest({ ...fields, banks }));
    assert.deepEqual(parsed.pcrSelection, [
      { hash: 0x000b, pcrs: [0, 7, 8, 23] },
      { hash: 0x0004, pcrs: [] },
      { hash: 0x000c, pcrs: Array.from({ length: 32 }, (_, index) => index * 8 + 7) },
    ]);
    assert.deepEqual(parseQuoteAttest(marshalAttest({ ...fields, banks: [] })).pcrSelection, []);
  });

  it('refuses anything but TPM_GENERATED_VALUE and TPM_ST_ATTEST_QUOTE (a structure the TPM did not make, a certification, an NV read)', () => {
    for (const changed of [
      { magic: 0 },
      { magic: 0xff544348 },
      { type: 0x8017 },
      { type: 0x8014 },
      { type: 0x1880 },
    ]) {
      assert.throws(() => parseQuoteAttest(marshalAttest({ ...fields, ...changed })), TpmStructureError);
    }
  });

  it('refuses a safe flag that is neither YES nor NO', () => {
    assert.throws(() => parseQuoteAttest(marshalAttest({ ...fields, safe: 2 })), /safe/);
  });

  it('refuses names, data, digests, banks and bitmaps past their bounds', () => {
    for (const changed of [
      { qualifiedSigner: new Uint8Array(67) },
      { extraData: new Uint8Array(65) },
      { pcrDigest: new Uint8Array(65) },
      { banks: Array.from({ length: 17 }, () => ({ hash: 0x000b, select: pcrBitmap(8) })) },
      { banks: [{ hash: 0x000b, select: new Uint8Array(33) }] },
    ]) {
      assert.throws(() => parseQuoteAttest(marshalAttest({ ...fields, ...changed })), TpmStructureError);
    }
    // At the bounds, they are read.
    const widest = marshalAttest({
      ...fields,
      qualifiedSigner: new Uint8Array(66),
      extraData: new Uint8Array(64),
      pcrDigest: new Uint8Array(64),
      banks: Array.from({ length: 16 }, () => ({ hash: 0x000b, select: new Uint8Array(32) })),
    });
    assert.equal(parseQuoteAttest(widest).pcrSelection.length, 16);
  });

  it('refuses a bank count that is out of bounds or promises more banks than follow', () => {
    // Everything up to and including firmwareVersion: the count, one bank and the digest follow it.
    const head = attest.subarray(0, attest.byteLength - 4 - 6 - 34);
    assert.throws(() => parseQuoteAttest(concat(head, u32(0xffff_ffff))), /more than 16/);
    assert.throws(() => parseQuoteAttest(concat(head, u32(5))), /runs past the end/);
  });

  it('refuses a TPMS_ATTEST truncated anywhere or with trailing bytes', () => {
    assertTruncationsAndTrailingRefused(attest, parseQuoteAttest);
  });
});

describe('parseEcdsaSignature', () => {
  const r = new Uint8Array(32).fill(0x11);
  const s = new Uint8Array(32).fill(0x22);
  const signature = marshalSignature(r, s);

  it('returns r ‖ s, 64 bytes', () => {
    assert.deepEqual(parseEcdsaSignature(signature), concat(r, s));
  });

  it('left-pads an r or s shorter than 32 bytes, and keeps leading zero bytes', () => {
    assert.deepEqual(
      parseEcdsaSignature(marshalSignature(Uint8Array.of(0x7f), s.subarray(2))),
      concat(new Uint8Array(31), Uint8Array.of(0x7f), new Uint8Array(2), s.subarray(2)),
    );
    const zeroLed = concat(Uint8Array.of(0), r.subarray(1));
    assert.deepEqual(parseEcdsaSignature(marshalSignature(zeroLed, s)), concat(zeroLed, s));
  });

  it('refuses other signature schemes and hashes', () => {
    for (const [sigAlg, hash] of [
      [0x0014, 0x000b],
      [0x0016, 0x000b],
      [0x001a, 0x000b],
      [0x0010, 0x000b],
      [0x0018, 0x0004],
      [0x0018, 0x000c],
    ] as const) {
      assert.throws(() => parseEcdsaSignature(marshalSignature(r, s, sigAlg, hash)), TpmStructureError);
    }
  });

  it('refuses r or s that is empty, zero, or wider than 32 bytes', () => {
    for (const [rr, ss] of [
      [new Uint8Array(0), s],
      [r, new Uint8Array(0)],
      [new Uint8Array(32), s],
      [r, Uint8Array.of(0)],
      [concat(Uint8Array.of(0), r), s],
      [r, concat(Uint8Array.of(1), s)],
    ] as const) {
      assert.throws(() => parseEcdsaSignature(marshalSignature(rr, ss)), TpmStructureError);
    }
  });

  it('refuses a TPMT_SIGNATURE truncated anywhere or with trailing bytes', () => {
    assertTruncationsAndTrailingRefused(signature, parseEcdsaSignature);
  });
});
