import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalJsonBytes,
  decodeBase64Url,
  parsePublicKeySpki,
  publicKeyFromKeyObject,
} from '@orbis/crypto';
import { MAX_TPM_ATTEST_BYTES, type BootLogEntry, type TpmQuote } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import { tpmQualifyingData } from './tpm-binding.ts';
import { verifyTpmQuote, type ExpectedTpmQuote } from './tpm-quote.ts';
import { parseTpmIdentityPublic } from './tpm-structures.ts';
import {
  ATTRIBUTE,
  concat,
  createTestTpmKey,
  IDENTITY_ATTRIBUTES,
  marshalAttest,
  pcrBitmap,
  sha256,
  signAttest,
  signRaw,
  tpmQuoteFixture as fixture,
  u16,
  u32,
  type AttestFields,
  type TestTpmKey,
} from './tpm.test-helpers.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const entry = (kind: 'os' | 'app', componentId: string, version: string): BootLogEntry => ({
  kind,
  componentId,
  version,
  securityVersion: 2,
  sha256: 'c'.repeat(64),
  signer: 'd'.repeat(64),
});
const bootLog = [
  entry('os', '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f', '26.11.0'),
  entry('app', '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10', '1.0.0'),
];

/** PCR 8 after the log is extended into it from reset, computed here without the code under test. */
function replay(log: readonly BootLogEntry[]): Uint8Array {
  let pcr: Uint8Array = new Uint8Array(32);
  for (const item of log) pcr = sha256(pcr, sha256(canonicalJsonBytes(item)));
  return pcr;
}

const device = createTestTpmKey();
const identity = parseTpmIdentityPublic(device.tpmPublic);
const certificateKey = publicKeyFromKeyObject(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
);
const nonce = b64(new Uint8Array(38).fill(0x5a));
const payload = new TextEncoder().encode('{"eat_nonce":"…"}');
const qualifyingData = tpmQualifyingData(nonce, certificateKey, payload);
const expected: ExpectedTpmQuote = { identity, qualifyingData, bootLog };

/** A quote as the device's TPM would make it, with any field changed, signed by `signer`. */
function quoteOf(fields: Partial<AttestFields> = {}, signer: TestTpmKey = device): TpmQuote {
  const attest = marshalAttest({
    qualifiedSigner: signer.qualifiedName,
    extraData: qualifyingData,
    pcrDigest: sha256(replay(bootLog)),
    ...fields,
  });
  return { attest: b64(attest), signature: b64(signAttest(signer.privateKey, attest)) };
}
const quote = quoteOf();

/** The code a quote is refused with, or undefined when it is accepted. */
function refusal(value: TpmQuote, overrides: Partial<ExpectedTpmQuote> = {}): string | undefined {
  try {
    verifyTpmQuote(value, { ...expected, ...overrides });
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AttestationError, `not an AttestationError: ${String(error)}`);
    return error.code;
  }
}

/** Every single-byte change of `bytes` (one bit flipped per byte), as base64url. */
function flips(bytes: Uint8Array): string[] {
  return Array.from(bytes, (byte, index) => {
    const changed = Uint8Array.from(bytes);
    changed[index] = byte ^ (1 << (index % 8));
    return b64(changed);
  });
}

describe('verifyTpmQuote accepts a quote the identity key signed', () => {
  it('returns the attestation of a quote over this qualifying data and the boot log’s PCR 8', () => {
    const attest = verifyTpmQuote(quote, expected);
    assert.deepEqual(attest.extraData, qualifyingData);
    assert.deepEqual(attest.pcrSelection, [{ hash: 0x000b, pcrs: [8] }]);
    assert.deepEqual(attest.qualifiedSigner, device.qualifiedName);
  });
});

describe('verifyTpmQuote refuses a quote made for something else', () => {
  it('refuses a quote over a stale nonce', () => {
    const stale = tpmQualifyingData(b64(new Uint8Array(38).fill(0x11)), certificateKey, payload);
    assert.equal(refusal(quoteOf({ extraData: stale })), 'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH');
  });

  it('refuses a quote lifted from another attestation (another certificate key, other claims)', () => {
    const otherKey = publicKeyFromKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    );
    for (const extraData of [
      tpmQualifyingData(nonce, otherKey, payload),
      tpmQualifyingData(nonce, certificateKey, new TextEncoder().encode('{}')),
      new Uint8Array(0),
      qualifyingData.subarray(0, 31),
    ]) {
      assert.equal(refusal(quoteOf({ extraData })), 'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH');
    }
  });
});

describe('verifyTpmQuote refuses quotes from keys that could forge one', () => {
  it('refuses a quote signed by an unrestricted key', () => {
    // Without `restricted`, a key signs any digest: the OS could compose a TPMS_ATTEST itself.
    const loose = createTestTpmKey({ attributes: IDENTITY_ATTRIBUTES & ~ATTRIBUTE.restricted });
    const looseIdentity = parseTpmIdentityPublic(loose.tpmPublic);
    assert.equal(
      refusal(quoteOf({}, loose), { identity: looseIdentity }),
      'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
    );
  });

  it('refuses a quote signed by a restricted key that can also decrypt', () => {
    const both = createTestTpmKey({ attributes: IDENTITY_ATTRIBUTES | ATTRIBUTE.decrypt });
    const bothIdentity = parseTpmIdentityPublic(both.tpmPublic);
    assert.equal(
      refusal(quoteOf({}, both), { identity: bothIdentity }),
      'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
    );
  });

  it('refuses a quote signed by a key that may leave its TPM, or that was imported into it', () => {
    for (const bit of [
      ATTRIBUTE.fixedTPM,
      ATTRIBUTE.fixedParent,
      ATTRIBUTE.sensitiveDataOrigin,
      ATTRIBUTE.sign,
    ]) {
      const key = createTestTpmKey({ attributes: IDENTITY_ATTRIBUTES & ~bit });
      const keyIdentity = parseTpmIdentityPublic(key.tpmPublic);
      assert.equal(
        refusal(quoteOf({}, key), { identity: keyIdentity }),
        'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
      );
    }
  });

  it('checks the key before anything else, even for a quote that is not base64url', () => {
    const loose = { ...identity, objectAttributes: IDENTITY_ATTRIBUTES & ~ATTRIBUTE.restricted };
    assert.equal(
      refusal({ attest: '!', signature: '!' }, { identity: loose }),
      'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
    );
  });
});

describe('verifyTpmQuote refuses quotes its identity key did not sign', () => {
  it('refuses a quote signed by another key', () => {
    const stranger = createTestTpmKey();
    assert.equal(
      refusal(quoteOf({ qualifiedSigner: device.qualifiedName }, stranger)),
      'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID',
    );
  });

  it("refuses a quote whose signer name is another key's", () => {
    // Another TPM key's genuine quote, as it came and relabelled with this device's qualified name.
    const other = createTestTpmKey();
    assert.equal(refusal(quoteOf({}, other)), 'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID');
    assert.equal(
      refusal(quoteOf({ qualifiedSigner: device.qualifiedName }, other)),
      'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID',
    );
  });

  it('refuses a signer named other than a SHA-256 key is (a SHA-1 or SHA-384 name, a hierarchy handle)', () => {
    for (const qualifiedSigner of [
      concat(u16(0x0004), new Uint8Array(20).fill(1)),
      concat(u16(0x000c), new Uint8Array(48).fill(1)),
      concat(u16(0x000c), new Uint8Array(32).fill(1)),
      concat(u16(0x010b), new Uint8Array(32).fill(1)),
      concat(u16(0x000b), new Uint8Array(31).fill(1)),
      u32(0x4000_0001),
      new Uint8Array(0),
    ]) {
      assert.equal(refusal(quoteOf({ qualifiedSigner })), 'ATTESTATION_TPM_QUOTE_SIGNER_MISMATCH');
    }
  });

  it('reads nothing of an attestation its key did not sign', () => {
    // Not a TPMS_ATTEST at all, under the signature of a real one: refused for the signature.
    const garbage = { attest: b64(new Uint8Array(40).fill(0xee)), signature: quote.signature };
    assert.equal(refusal(garbage), 'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID');
  });

  it('refuses a quote with any byte of its attestation or its signature changed', () => {
    for (const attest of flips(decodeBase64Url(quote.attest))) {
      assert.equal(refusal({ ...quote, attest }), 'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID');
    }
    for (const signature of flips(decodeBase64Url(quote.signature))) {
      assert.match(
        String(refusal({ ...quote, signature })),
        /^ATTESTATION_TPM_QUOTE_(SIGNATURE_INVALID|MALFORMED)$/,
      );
    }
  });
});

describe('verifyTpmQuote refuses a quote of anything but the boot log’s PCR 8', () => {
  it('refuses a quote of another PCR or bank', () => {
    for (const banks of [
      [{ hash: 0x000b, select: pcrBitmap(7) }],
      [{ hash: 0x000b, select: pcrBitmap(8, 9) }],
      [{ hash: 0x000b, select: pcrBitmap(0, 8) }],
      [{ hash: 0x0004, select: pcrBitmap(8) }],
      [{ hash: 0x000c, select: pcrBitmap(8) }],
      [
        { hash: 0x000b, select: pcrBitmap(8) },
        { hash: 0x0004, select: pcrBitmap(8) },
      ],
      [
        { hash: 0x000b, select: pcrBitmap(8) },
        { hash: 0x000b, select: pcrBitmap(8) },
      ],
      [{ hash: 0x000b, select: new Uint8Array(0) }],
      [],
    ]) {
      assert.equal(refusal(quoteOf({ banks })), 'ATTESTATION_TPM_PCR_MISMATCH', JSON.stringify(banks));
    }
  });

  it('refuses a quote whose PCR digest is not the boot-log replay (an edited boot log)', () => {
    const [os, app] = bootLog as [BootLogEntry, BootLogEntry];
    for (const edited of [
      [{ ...os, version: '26.10.0' }, app],
      [os, { ...app, sha256: 'e'.repeat(64) }],
      [app, os],
      [os],
      [os, app, app],
      [],
    ]) {
      assert.equal(refusal(quote, { bootLog: edited }), 'ATTESTATION_TPM_PCR_MISMATCH');
    }
  });

  it('refuses a PCR digest that is the register itself, not its digest', () => {
    assert.equal(refusal(quoteOf({ pcrDigest: replay(bootLog) })), 'ATTESTATION_TPM_PCR_MISMATCH');
  });
});

describe('verifyTpmQuote refuses quotes that are not strict TPM structures', () => {
  it('refuses a signed attestation that is not a quote (bad magic, another type, cut or padded)', () => {
    for (const fields of [{ magic: 0x00544347 }, { type: 0x8017 }, { safe: 7 }]) {
      assert.equal(refusal(quoteOf(fields)), 'ATTESTATION_TPM_QUOTE_MALFORMED');
    }
    const attest = marshalAttest({ qualifiedSigner: device.qualifiedName, extraData: qualifyingData });
    for (const cut of [attest.subarray(0, -1), concat(attest, Uint8Array.of(0))]) {
      const signed = { attest: b64(cut), signature: b64(signAttest(device.privateKey, cut)) };
      assert.equal(refusal(signed), 'ATTESTATION_TPM_QUOTE_MALFORMED');
    }
  });

  it('refuses a DER or bare r ‖ s signature in place of a TPMT_SIGNATURE', () => {
    const attest = decodeBase64Url(quote.attest);
    const der = Uint8Array.from(sign('sha256', attest, device.privateKey));
    const { r, s } = signRaw(device.privateKey, attest);
    for (const signature of [der, concat(r, s)]) {
      assert.equal(refusal({ ...quote, signature: b64(signature) }), 'ATTESTATION_TPM_QUOTE_MALFORMED');
    }
  });

  it('refuses fields that are not strict base64url, or longer than their limits', () => {
    // 145 bytes leave 4 spare bits in the last character; setting one spells the same bytes anew.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(quote.attest.at(-1) as string);
    const respelled = `${quote.attest.slice(0, -1)}${alphabet[last ^ 1] as string}`;
    assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(quote.attest, 'base64url'));
    for (const changed of [
      { attest: respelled },
      { attest: `${quote.attest}=` },
      { attest: quote.attest.replace(/[-_]/, '+') },
      { attest: ` ${quote.attest}` },
      { signature: `${quote.signature.slice(0, -2)}.` },
      { attest: 'A'.repeat(Math.ceil((MAX_TPM_ATTEST_BYTES * 4) / 3) + 1) },
      { signature: 'A'.repeat(400) },
    ]) {
      assert.equal(
        refusal({ ...quote, ...changed }),
        'ATTESTATION_TPM_QUOTE_MALFORMED',
        JSON.stringify(changed),
      );
    }
  });
});

describe('real TPM output: a quote swtpm produced (scripts/tpm-quote-fixture.ts)', () => {
  const realIdentity = parseTpmIdentityPublic(decodeBase64Url(fixture.tpmPublic));
  const realCertificateKey = parsePublicKeySpki(decodeBase64Url(fixture.certificateKey));
  const realPayload = decodeBase64Url(fixture.eatPayload);
  const realExpected: ExpectedTpmQuote = {
    identity: realIdentity,
    qualifyingData: tpmQualifyingData(fixture.nonce, realCertificateKey, realPayload),
    bootLog: fixture.bootLog,
  };
  const realQuote: TpmQuote = { attest: fixture.attest, signature: fixture.signature };
  const realRefusal = (value: TpmQuote, overrides: Partial<ExpectedTpmQuote> = {}): string | undefined =>
    refusal(value, { ...realExpected, ...overrides });

  it('reads the public area tpm2_create wrote as the key tpm2_readpublic gave', () => {
    assert.deepEqual(realIdentity.publicKey.spki, decodeBase64Url(fixture.identityKey));
    assert.equal(realIdentity.objectAttributes, IDENTITY_ATTRIBUTES);
  });

  it('accepts a quote swtpm produced', () => {
    const attest = verifyTpmQuote(realQuote, realExpected);
    assert.deepEqual(attest.pcrDigest, sha256(Buffer.from(fixture.pcr8, 'hex')));
    assert.deepEqual(replay(fixture.bootLog), Uint8Array.from(Buffer.from(fixture.pcr8, 'hex')));
    // The TPM names the signer by its qualified name (under its parent), not by its name.
    assert.equal(attest.qualifiedSigner.byteLength, 34);
    assert.notDeepEqual(attest.qualifiedSigner, realIdentity.name);
  });

  it('refuses the swtpm quote for another nonce, certificate key or boot log, or from another key', () => {
    const otherNonce = b64(new Uint8Array(38));
    assert.equal(
      realRefusal(realQuote, {
        qualifyingData: tpmQualifyingData(otherNonce, realCertificateKey, realPayload),
      }),
      'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH',
    );
    assert.equal(
      realRefusal(realQuote, {
        qualifyingData: tpmQualifyingData(fixture.nonce, certificateKey, realPayload),
      }),
      'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH',
    );
    const [first, ...rest] = fixture.bootLog as [BootLogEntry, ...BootLogEntry[]];
    assert.equal(
      realRefusal(realQuote, {
        bootLog: [{ ...first, securityVersion: first.securityVersion + 1 }, ...rest],
      }),
      'ATTESTATION_TPM_PCR_MISMATCH',
    );
    assert.equal(realRefusal(realQuote, { identity }), 'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID');
  });

  it('refuses the swtpm quote with any byte changed', () => {
    for (const attest of flips(decodeBase64Url(fixture.attest))) {
      assert.equal(realRefusal({ ...realQuote, attest }), 'ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID');
    }
    for (const signature of flips(decodeBase64Url(fixture.signature))) {
      assert.notEqual(realRefusal({ ...realQuote, signature }), undefined);
    }
  });
});
