import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { publicKeyFromKeyObject } from '@orbis/crypto';
import { MAX_EVIDENCE_BYTES } from '@orbis/protocol';
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
