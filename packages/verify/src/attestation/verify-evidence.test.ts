import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalJsonBytes,
  decodeBase64Url,
  parsePublicKeySpki,
  publicKeyFromKeyObject,
} from '@orbis/crypto';
import {
  MAX_EVIDENCE_BYTES,
  type AttestationClaims,
  type BootLogEntry,
  type TpmQuote,
} from '@orbis/protocol';
import {
  base64UrlOf,
  createTestDeviceKeys,
  sampleAttestationClaims,
  signJwsSegments,
  signTestEvidence,
  testPublicJwk,
  testUeid,
} from '@orbis/testkit';
import { AttestationError } from '../errors.ts';
import { MAX_REMEMBERED_HEADERS } from './evidence-jws.ts';
import { createNonce } from './nonce.ts';
import { tpmQualifyingData } from './tpm-binding.ts';
import { parseTpmIdentityPublic } from './tpm-structures.ts';
import {
  createTestTpmKey,
  marshalAttest,
  sha256,
  signAttest,
  tpmQuoteFixture,
  type TestTpmKey,
} from './tpm.test-helpers.ts';
import { ueidForDevice, verifyEvidence, type VerifyEvidenceOptions } from './verify-evidence.ts';

const device = createTestDeviceKeys();
const identityKey = publicKeyFromKeyObject(device.identityKey);
const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const random = { bytes: (length: number) => new Uint8Array(randomBytes(length)) };
const nonce = createNonce({ key: randomBytes(32), deviceId: identityKey.keyId as never, now, random });
const claims = sampleAttestationClaims({
  deviceId: device.deviceId,
  nonce,
  certificateKey: device.certificateKey,
  iat: now / 1000,
});
const evidence = signTestEvidence(claims, device.identityKey);
const options: VerifyEvidenceOptions = { identityKey, expectedNonce: nonce, now, maxClockSkewSeconds: 300 };
const [headerSegment, payloadSegment, signatureSegment] = evidence.split('.') as [string, string, string];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The code evidence is refused with, or undefined when it is accepted. */
function refusal(text: string, overrides: Partial<VerifyEvidenceOptions> = {}): string | undefined {
  try {
    verifyEvidence(text, { ...options, ...overrides });
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AttestationError, `not an AttestationError: ${String(error)}`);
    return error.code;
  }
}

/** The same bytes spelled differently: the lowest spare bit of the last character set. */
function respell(segment: string): string {
  const last = ALPHABET.indexOf(segment.at(-1) as string);
  return `${segment.slice(0, -1)}${ALPHABET[last ^ 1] as string}`;
}

/** Evidence over `claims` with the real signature of other claims kept. */
function withPayload(value: unknown): string {
  return `${headerSegment}.${base64UrlOf(JSON.stringify(value))}.${signatureSegment}`;
}

describe('verifyEvidence accepts what a root of trust signs', () => {
  it('returns the device ID, the claims and the certificate key', () => {
    const verified = verifyEvidence(evidence, options);
    assert.equal(verified.deviceId, device.deviceId);
    assert.deepEqual(verified.claims, claims);
    assert.equal(verified.certificateKey.keyId, publicKeyFromKeyObject(device.certificateKey).keyId);
    assert.equal(ueidForDevice(verified.deviceId), testUeid(device.deviceId));
  });

  it('accepts the header members in either order, and iat at the edge of the skew', () => {
    assert.equal(
      refusal(signTestEvidence(claims, device.identityKey, { typ: 'eat+jwt', alg: 'ES256' })),
      undefined,
    );
    assert.equal(refusal(evidence, { now: now + 300_000 }), undefined);
    assert.equal(refusal(evidence, { now: now - 300_000 }), undefined);
  });
});

describe('verifyEvidence remembers accepted headers, and only accepted ones', () => {
  it('stops remembering at MAX_REMEMBERED_HEADERS spellings and still checks every other header', () => {
    // Whitespace gives one header endless spellings: each must be checked, none may grow memory without bound.
    for (let spaces = 0; spaces < MAX_REMEMBERED_HEADERS + 4; spaces += 1) {
      const spelled = base64UrlOf(`{"alg":"ES256",${' '.repeat(spaces)}"typ":"eat+jwt"}`);
      assert.equal(refusal(signJwsSegments(spelled, payloadSegment, device.identityKey)), undefined);
      assert.equal(refusal(signJwsSegments(spelled, payloadSegment, device.identityKey)), undefined);
    }
    const bad = base64UrlOf('{"alg":"none","typ":"eat+jwt"}');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assert.equal(
        refusal(signJwsSegments(bad, payloadSegment, device.identityKey)),
        'ATTESTATION_HEADER_INVALID',
      );
    }
  });
});

describe('verifyEvidence refuses forged and altered evidence', () => {
  it('rejects evidence with any one character changed', () => {
    for (let index = 0; index < evidence.length; index += 1) {
      const char = evidence[index] as string;
      const replacement = char === '.' ? 'A' : (ALPHABET[(ALPHABET.indexOf(char) + 17) % 64] as string);
      const altered = `${evidence.slice(0, index)}${replacement}${evidence.slice(index + 1)}`;
      assert.notEqual(refusal(altered), undefined, `character ${index} changed was accepted`);
    }
  });

  it('rejects evidence signed by a key that is not the registered identity key', () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    assert.equal(refusal(signTestEvidence(claims, stranger)), 'ATTESTATION_SIGNATURE_INVALID');
  });

  it("rejects one device's evidence presented as another device's", () => {
    const other = publicKeyFromKeyObject(createTestDeviceKeys().identityKey);
    assert.equal(refusal(evidence, { identityKey: other }), 'ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects a certificate key swapped into the claims after signing', () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const swapped = withPayload({ ...claims, cnf: { jwk: testPublicJwk(attacker) } });
    assert.equal(refusal(swapped), 'ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects claims altered after signing (a lowered bootcount, a hidden debug state)', () => {
    assert.equal(refusal(withPayload({ ...claims, bootcount: 1 })), 'ATTESTATION_SIGNATURE_INVALID');
    assert.equal(refusal(withPayload({ ...claims, dbgstat: 0 })), 'ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects a signature truncated, padded, or in DER instead of r ‖ s', () => {
    const der = sign('sha256', Buffer.from(`${headerSegment}.${payloadSegment}`), device.identityKey);
    assert.equal(
      refusal(`${headerSegment}.${payloadSegment}.${base64UrlOf(der)}`),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
    assert.equal(
      refusal(`${headerSegment}.${payloadSegment}.${signatureSegment.slice(0, -2)}`),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
    assert.equal(refusal(`${headerSegment}.${payloadSegment}.`), 'ATTESTATION_EVIDENCE_MALFORMED');
  });
});

describe('verifyEvidence refuses evidence that would read two ways', () => {
  it('rejects a signature segment re-spelled with non-zero spare bits (the same signature bytes)', () => {
    const twin = respell(signatureSegment);
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(signatureSegment, 'base64url'));
    assert.equal(refusal(`${headerSegment}.${payloadSegment}.${twin}`), 'ATTESTATION_EVIDENCE_MALFORMED');
  });

  it('rejects non-canonical base64url in the header and payload, even when signed', () => {
    // JSON allows trailing whitespace; pad until the last character has spare bits to abuse.
    let payloadText = JSON.stringify(claims);
    while (payloadText.length % 3 === 0) payloadText += ' ';
    const payload = base64UrlOf(payloadText);
    assert.equal(refusal(signJwsSegments(headerSegment, payload, device.identityKey)), undefined);
    assert.equal(
      refusal(signJwsSegments(headerSegment, respell(payload), device.identityKey)),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
    assert.equal(
      refusal(signJwsSegments(respell(headerSegment), payloadSegment, device.identityKey)),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
  });

  it('rejects padding, standard-alphabet base64 and whitespace', () => {
    const padded = `${headerSegment}=`;
    assert.equal(
      refusal(signJwsSegments(padded, payloadSegment, device.identityKey)),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
    const standard = Buffer.from('{"a":"???"}').toString('base64').replace(/=+$/, '');
    assert.match(standard, /\//);
    assert.equal(
      refusal(signJwsSegments(headerSegment, standard, device.identityKey)),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
    assert.equal(refusal(` ${evidence}`), 'ATTESTATION_EVIDENCE_MALFORMED');
  });

  it('rejects anything but exactly three segments', () => {
    assert.equal(refusal(`${headerSegment}.${payloadSegment}`), 'ATTESTATION_EVIDENCE_MALFORMED');
    assert.equal(refusal(`${evidence}.${signatureSegment}`), 'ATTESTATION_EVIDENCE_MALFORMED');
    assert.equal(
      refusal(JSON.stringify({ protected: headerSegment, payload: payloadSegment })),
      'ATTESTATION_EVIDENCE_MALFORMED',
    );
  });
});

describe('verifyEvidence refuses headers other than ES256 eat+jwt', () => {
  it('rejects alg none with an empty signature', () => {
    const header = base64UrlOf(JSON.stringify({ alg: 'none', typ: 'eat+jwt' }));
    assert.equal(refusal(`${header}.${payloadSegment}.`), 'ATTESTATION_HEADER_INVALID');
    assert.equal(refusal(`${header}.${payloadSegment}.${signatureSegment}`), 'ATTESTATION_HEADER_INVALID');
  });

  it('rejects HS256 keyed with the public identity key (algorithm confusion)', () => {
    const header = base64UrlOf(JSON.stringify({ alg: 'HS256', typ: 'eat+jwt' }));
    const spki = createPublicKey(device.identityKey).export({ format: 'der', type: 'spki' });
    const mac = createHmac('sha256', spki).update(`${header}.${payloadSegment}`).digest();
    const forged = `${header}.${payloadSegment}.${base64UrlOf(Buffer.concat([mac, mac]))}`;
    assert.equal(refusal(forged), 'ATTESTATION_HEADER_INVALID');
  });

  it('rejects other algorithms and types, even correctly signed', () => {
    for (const header of [
      { alg: 'ES384', typ: 'eat+jwt' },
      { alg: 'es256', typ: 'eat+jwt' },
      { alg: 'ES256', typ: 'JWT' },
      { alg: 'ES256', typ: 'EAT+JWT' },
      { alg: 'ES256' },
      { typ: 'eat+jwt' },
    ]) {
      assert.equal(
        refusal(signTestEvidence(claims, device.identityKey, header)),
        'ATTESTATION_HEADER_INVALID',
        JSON.stringify(header),
      );
    }
  });

  it('rejects crit, embedded or fetched keys and every other extra header member', () => {
    const jwk = testPublicJwk(device.identityKey);
    for (const [name, value] of Object.entries({
      crit: ['b64'],
      b64: false,
      jwk,
      jku: 'https://attacker.example/keys',
      x5u: 'https://attacker.example/cert',
      x5c: ['MIIB'],
      kid: device.deviceId,
      cty: 'JWT',
    })) {
      const header = { alg: 'ES256', typ: 'eat+jwt', [name]: value };
      assert.equal(
        refusal(signTestEvidence(claims, device.identityKey, header)),
        'ATTESTATION_HEADER_INVALID',
        name,
      );
    }
  });

  it('rejects a header that is not a UTF-8 JSON object', () => {
    for (const header of ['["ES256"]', 'null', '{"alg":"ES256",', '\u00ff']) {
      const segment = base64UrlOf(header === '\u00ff' ? Uint8Array.of(0xff) : header);
      assert.equal(
        refusal(signJwsSegments(segment, payloadSegment, device.identityKey)),
        'ATTESTATION_HEADER_INVALID',
        header,
      );
    }
  });
});

describe('verifyEvidence checks what the claims say', () => {
  const signed = (value: unknown) => signTestEvidence(value, device.identityKey);

  it('rejects evidence larger than MAX_EVIDENCE_BYTES before parsing it', () => {
    assert.equal(refusal('A'.repeat(MAX_EVIDENCE_BYTES + 1)), 'ATTESTATION_EVIDENCE_TOO_LARGE');
    const padding = 'x'.repeat(MAX_EVIDENCE_BYTES);
    assert.equal(refusal(signed({ ...claims, padding })), 'ATTESTATION_EVIDENCE_TOO_LARGE');
  });

  it('rejects evidence carrying another nonce (a replay of an earlier attestation)', () => {
    const other = createNonce({ key: randomBytes(32), deviceId: identityKey.keyId as never, now, random });
    assert.equal(refusal(evidence, { expectedNonce: other }), 'ATTESTATION_NONCE_MISMATCH');
    assert.equal(refusal(evidence, { expectedNonce: `${nonce}A` }), 'ATTESTATION_NONCE_MISMATCH');
  });

  it('rejects a ueid naming another device, even signed by the right key', () => {
    const other = createTestDeviceKeys().deviceId;
    assert.equal(refusal(signed({ ...claims, ueid: testUeid(other) })), 'ATTESTATION_UEID_MISMATCH');
    const wrongType = Buffer.concat([Uint8Array.of(2), Buffer.from(device.deviceId, 'hex')]).toString(
      'base64url',
    );
    assert.equal(refusal(signed({ ...claims, ueid: wrongType })), 'ATTESTATION_UEID_MISMATCH');
  });

  it('fails closed when the time or skew it is given is not a number', () => {
    assert.equal(refusal(evidence, { now: Number.NaN }), 'ATTESTATION_IAT_OUT_OF_RANGE');
    assert.equal(refusal(evidence, { maxClockSkewSeconds: Number.NaN }), 'ATTESTATION_IAT_OUT_OF_RANGE');
  });

  it('rejects an iat outside the allowed clock skew, either way', () => {
    assert.equal(refusal(evidence, { now: now + 300_001 }), 'ATTESTATION_IAT_OUT_OF_RANGE');
    assert.equal(refusal(evidence, { now: now - 300_001 }), 'ATTESTATION_IAT_OUT_OF_RANGE');
  });

  it('rejects the identity key offered as the certificate key', () => {
    const reuse = signed({ ...claims, cnf: { jwk: testPublicJwk(device.identityKey) } });
    assert.equal(refusal(reuse), 'ATTESTATION_CNF_INVALID');
  });

  it('rejects a certificate key that is not a point on P-256 or is spelled non-canonically', () => {
    const jwk = testPublicJwk(device.certificateKey);
    assert.equal(
      refusal(signed({ ...claims, cnf: { jwk: { ...jwk, y: jwk.x } } })),
      'ATTESTATION_CNF_INVALID',
    );
    assert.equal(
      refusal(signed({ ...claims, cnf: { jwk: { ...jwk, x: respell(jwk.x) } } })),
      'ATTESTATION_CNF_INVALID',
    );
  });

  it('rejects another EAT profile, even correctly signed', () => {
    assert.equal(
      refusal(signed({ ...claims, eat_profile: 'urn:orbis:eat-profile:2' })),
      'ATTESTATION_PROFILE_UNSUPPORTED',
    );
    const { eat_profile: _, ...without } = claims;
    assert.equal(refusal(signed(without)), 'ATTESTATION_PROFILE_UNSUPPORTED');
  });

  it('rejects claims outside the schema, even correctly signed', () => {
    assert.equal(refusal(signed({ ...claims, extra: true })), 'ATTESTATION_CLAIMS_INVALID');
    const { cnf: _, ...noKey } = claims;
    assert.equal(refusal(signed(noKey)), 'ATTESTATION_CLAIMS_INVALID');
    assert.equal(refusal(signed({ ...claims, iat: 1.5 })), 'ATTESTATION_CLAIMS_INVALID');
  });

  it('rejects a payload that is not a UTF-8 JSON object, even correctly signed', () => {
    assert.equal(refusal(signed([claims])), 'ATTESTATION_CLAIMS_INVALID');
    assert.equal(refusal(signed(null)), 'ATTESTATION_CLAIMS_INVALID');
    for (const payload of [base64UrlOf('{"iat":'), base64UrlOf(Uint8Array.of(0x7b, 0xff, 0x7d))]) {
      assert.equal(
        refusal(signJwsSegments(headerSegment, payload, device.identityKey)),
        'ATTESTATION_CLAIMS_INVALID',
      );
    }
  });
});

describe('verifyEvidence with a TPM identity key: the EAT and a quote of PCR 8', () => {
  const tpmKey = createTestTpmKey();
  const tpmIdentity = parseTpmIdentityPublic(tpmKey.tpmPublic);
  const tpmDeviceId = tpmIdentity.publicKey.keyId;
  const nonceKey = randomBytes(32);
  const issue = () => createNonce({ key: nonceKey, deviceId: tpmDeviceId as never, now, random });
  const tpmNonce = issue();
  const tpmClaims = sampleAttestationClaims({
    deviceId: tpmDeviceId,
    nonce: tpmNonce,
    certificateKey: device.certificateKey,
    iat: now / 1000,
  });
  // With the TPM backend, the identity key signs the EAT too, through a TPM2_Hash ticket.
  const tpmEvidence = signTestEvidence(tpmClaims, tpmKey.privateKey);
  const tpmOptions: VerifyEvidenceOptions = {
    identityKey: tpmIdentity.publicKey,
    expectedNonce: tpmNonce,
    now,
    maxClockSkewSeconds: 300,
    tpmIdentity,
  };
  const certificateKey = publicKeyFromKeyObject(device.certificateKey);

  const replay = (log: readonly BootLogEntry[]): Uint8Array => {
    let pcr: Uint8Array = new Uint8Array(32);
    for (const item of log) pcr = sha256(pcr, sha256(canonicalJsonBytes(item)));
    return pcr;
  };

  /** The quote the TPM makes for `evidenceText`: its nonce, certificate key and payload, and PCR 8 for `log`. */
  function quoteFor(
    evidenceText: string,
    nonceText: string,
    log: readonly BootLogEntry[] = tpmClaims.orbis_boot_log,
    signer: TestTpmKey = tpmKey,
  ): TpmQuote {
    const payload = decodeBase64Url(evidenceText.split('.')[1] as string);
    const attest = marshalAttest({
      qualifiedSigner: signer.qualifiedName,
      extraData: tpmQualifyingData(nonceText, certificateKey, payload),
      pcrDigest: sha256(replay(log)),
    });
    return {
      attest: Buffer.from(attest).toString('base64url'),
      signature: Buffer.from(signAttest(signer.privateKey, attest)).toString('base64url'),
    };
  }
  const tpmQuote = quoteFor(tpmEvidence, tpmNonce);
  const tpmRefusal = (text: string, overrides: Partial<VerifyEvidenceOptions> = {}) =>
    refusal(text, { ...tpmOptions, tpmQuote, ...overrides });

  it('accepts the EAT with a quote from the same TPM key, and returns the quote', () => {
    const verified = verifyEvidence(tpmEvidence, { ...tpmOptions, tpmQuote });
    assert.equal(verified.deviceId, tpmDeviceId);
    assert.deepEqual(verified.tpmQuote?.pcrSelection, [{ hash: 0x000b, pcrs: [8] }]);
    assert.equal('tpmQuote' in verifyEvidence(evidence, options), false);
  });

  it('refuses bare EAT evidence from a device registered with a TPM key (downgrade)', () => {
    assert.equal(tpmRefusal(tpmEvidence, { tpmQuote: undefined }), 'ATTESTATION_TPM_QUOTE_MISSING');
  });

  it('refuses a quote from a device registered without one', () => {
    assert.equal(refusal(evidence, { tpmQuote }), 'ATTESTATION_TPM_QUOTE_UNEXPECTED');
    assert.equal(refusal(evidence, { tpmQuote, tpmIdentity: undefined }), 'ATTESTATION_TPM_QUOTE_UNEXPECTED');
  });

  it("refuses a TPM public area that is not the identity key's", () => {
    const other = parseTpmIdentityPublic(createTestTpmKey().tpmPublic);
    assert.equal(tpmRefusal(tpmEvidence, { tpmIdentity: other }), 'ATTESTATION_TPM_QUOTE_SIGNER_MISMATCH');
  });

  it('checks the EAT before the quote: a forged EAT is refused for its signature', () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const forged = signTestEvidence(tpmClaims, stranger);
    assert.equal(
      tpmRefusal(forged, { tpmQuote: quoteFor(forged, tpmNonce) }),
      'ATTESTATION_SIGNATURE_INVALID',
    );
  });

  it('refuses a quote over a stale nonce, replayed with fresh evidence', () => {
    const fresh = issue();
    const freshEvidence = signTestEvidence({ ...tpmClaims, eat_nonce: fresh }, tpmKey.privateKey);
    assert.equal(
      tpmRefusal(freshEvidence, { expectedNonce: fresh, tpmQuote }),
      'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH',
    );
    assert.equal(
      tpmRefusal(freshEvidence, { expectedNonce: fresh, tpmQuote: quoteFor(freshEvidence, fresh) }),
      undefined,
    );
  });

  it('refuses a quote made for other claims (another certificate key, another boot count)', () => {
    const otherClaims: AttestationClaims = { ...tpmClaims, bootcount: tpmClaims.bootcount + 1 };
    const otherEvidence = signTestEvidence(otherClaims, tpmKey.privateKey);
    assert.equal(tpmRefusal(otherEvidence), 'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH');
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const swapped = signTestEvidence(
      { ...tpmClaims, cnf: { jwk: testPublicJwk(attacker) } },
      tpmKey.privateKey,
    );
    assert.equal(tpmRefusal(swapped), 'ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH');
  });

  it('refuses a boot log the quoted PCR does not back (an OS signing its own claims through TPM2_Hash)', () => {
    // The identity key signs whatever the OS hashes through the TPM; only PCR 8 says what booted.
    const [os, app] = tpmClaims.orbis_boot_log as [BootLogEntry, BootLogEntry];
    const claimed = [{ ...os, securityVersion: os.securityVersion + 1 }, app];
    const edited = signTestEvidence({ ...tpmClaims, orbis_boot_log: claimed }, tpmKey.privateKey);
    assert.equal(
      tpmRefusal(edited, { tpmQuote: quoteFor(edited, tpmNonce, tpmClaims.orbis_boot_log) }),
      'ATTESTATION_TPM_PCR_MISMATCH',
    );
  });

  it('refuses a nonce that is not strict base64url rather than bind a quote to it', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(tpmNonce.at(-1) as string);
    const respelled = `${tpmNonce.slice(0, -1)}${alphabet[last ^ 1] as string}`;
    const respelledEvidence = signTestEvidence({ ...tpmClaims, eat_nonce: respelled }, tpmKey.privateKey);
    assert.equal(tpmRefusal(respelledEvidence, { expectedNonce: respelled }), 'ATTESTATION_NONCE_MALFORMED');
  });

  it('accepts evidence and a quote swtpm produced', () => {
    const fixture = tpmQuoteFixture;
    const realIdentity = parseTpmIdentityPublic(decodeBase64Url(fixture.tpmPublic));
    assert.deepEqual(
      decodeBase64Url(fixture.evidence.split('.')[1] as string),
      decodeBase64Url(fixture.eatPayload),
    );
    const verified = verifyEvidence(fixture.evidence, {
      identityKey: parsePublicKeySpki(decodeBase64Url(fixture.identityKey)),
      expectedNonce: fixture.nonce,
      now: fixture.iat * 1000,
      maxClockSkewSeconds: 0,
      tpmIdentity: realIdentity,
      tpmQuote: { attest: fixture.attest, signature: fixture.signature },
    });
    assert.deepEqual(verified.claims.orbis_boot_log, fixture.bootLog);
    assert.equal(
      verified.certificateKey.keyId,
      parsePublicKeySpki(decodeBase64Url(fixture.certificateKey)).keyId,
    );
  });
});
