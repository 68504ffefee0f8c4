import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BootLogEntry } from '@orbis/protocol';

/**
 * A small TPM 2.0 marshaller for tests (TPM 2.0 Library, Part 2): TPM2B_PUBLIC, TPMS_ATTEST and
 * TPMT_SIGNATURE built field by field, so each test can change exactly one field of a structure
 * a software key then signs as a TPM would. Written from the specification, independently of
 * the parsers under test, with node:crypto alone.
 */

export const concat = (...parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
export const u8 = (value: number): Uint8Array => Uint8Array.of(value);
export const u16 = (value: number): Uint8Array => Uint8Array.of(value >> 8, value & 0xff);
export function u32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return Uint8Array.from(bytes);
}
export function u64(value: bigint): Uint8Array {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return Uint8Array.from(bytes);
}
/** A TPM2B: UINT16 size ‖ bytes. */
export const tpm2b = (bytes: Uint8Array): Uint8Array => concat(u16(bytes.byteLength), bytes);
export const sha256 = (...parts: readonly Uint8Array[]): Uint8Array => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return Uint8Array.from(hash.digest());
};

/** The attributes `tpm2_create -a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign`. */
export const IDENTITY_ATTRIBUTES = 0x00050072;
export const ATTRIBUTE = {
  fixedTPM: 0x2,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  restricted: 0x10000,
  decrypt: 0x20000,
  sign: 0x40000,
} as const;

export interface PublicAreaFields {
  readonly type: number;
  readonly nameAlg: number;
  readonly attributes: number;
  readonly authPolicy: Uint8Array;
  readonly symmetric: Uint8Array;
  readonly scheme: Uint8Array;
  readonly curve: number;
  readonly kdf: Uint8Array;
  /** The TPMS_ECC_POINT, two TPM2Bs. */
  readonly unique: Uint8Array;
}

/** x ‖ y of a P-256 key, 32 bytes each. */
export function rawPoint(key: KeyObject): { x: Uint8Array; y: Uint8Array } {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return {
    x: Uint8Array.from(Buffer.from(String(jwk.x), 'base64url')),
    y: Uint8Array.from(Buffer.from(String(jwk.y), 'base64url')),
  };
}

/** TPMT_PUBLIC of an ECC P-256 ECDSA-SHA256 key, with any field replaced. */
export function marshalPublicArea(key: KeyObject, fields: Partial<PublicAreaFields> = {}): Uint8Array {
  const { x, y } = rawPoint(key);
  const all: PublicAreaFields = {
    type: 0x0023,
    nameAlg: 0x000b,
    attributes: IDENTITY_ATTRIBUTES,
    authPolicy: new Uint8Array(0),
    symmetric: u16(0x0010),
    scheme: concat(u16(0x0018), u16(0x000b)),
    curve: 0x0003,
    kdf: u16(0x0010),
    unique: concat(tpm2b(x), tpm2b(y)),
    ...fields,
  };
  return concat(
    u16(all.type),
    u16(all.nameAlg),
    u32(all.attributes),
    tpm2b(all.authPolicy),
    all.symmetric,
    all.scheme,
    u16(all.curve),
    all.kdf,
    all.unique,
  );
}

/** TPM2B_PUBLIC, as `tpm2_create -u` writes it. */
export const marshalPublic = (key: KeyObject, fields: Partial<PublicAreaFields> = {}): Uint8Array =>
  tpm2b(marshalPublicArea(key, fields));

/** The TPM name of a public area: 0x000B ‖ SHA-256(TPMT_PUBLIC). */
export const tpmName = (publicArea: Uint8Array): Uint8Array => concat(u16(0x000b), sha256(publicArea));

/** A qualified name under a made-up parent: 0x000B ‖ SHA-256(parent QN ‖ name) (Part 1, "Qualified Name"). */
export const qualifiedName = (
  name: Uint8Array,
  parent: Uint8Array = new Uint8Array(34).fill(9),
): Uint8Array => concat(u16(0x000b), sha256(parent, name));

export interface TestTpmKey {
  readonly privateKey: KeyObject;
  /** TPM2B_PUBLIC. */
  readonly tpmPublic: Uint8Array;
  readonly qualifiedName: Uint8Array;
}

/** A software P-256 key standing in for a TPM key, with its public area. */
export function createTestTpmKey(fields: Partial<PublicAreaFields> = {}): TestTpmKey {
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const area = marshalPublicArea(privateKey, fields);
  return { privateKey, tpmPublic: tpm2b(area), qualifiedName: qualifiedName(tpmName(area)) };
}

export interface PcrBank {
  readonly hash: number;
  readonly select: Uint8Array;
}

/** A 3-byte PCR bitmap selecting `pcrs` (bit j of byte i is PCR 8i + j). */
export function pcrBitmap(...pcrs: readonly number[]): Uint8Array {
  const bitmap = new Uint8Array(3);
  for (const pcr of pcrs) bitmap[pcr >> 3] = (bitmap[pcr >> 3] ?? 0) | (1 << (pcr & 7));
  return bitmap;
}

export interface AttestFields {
  readonly magic: number;
  readonly type: number;
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: number;
  readonly firmwareVersion: bigint;
  readonly banks: readonly PcrBank[];
  readonly pcrDigest: Uint8Array;
}

/** TPMS_ATTEST of a quote of sha256 PCR 8, with any field replaced. */
export function marshalAttest(fields: Partial<AttestFields> = {}): Uint8Array {
  const all: AttestFields = {
    magic: 0xff544347,
    type: 0x8018,
    qualifiedSigner: concat(u16(0x000b), new Uint8Array(32).fill(1)),
    extraData: new Uint8Array(32).fill(2),
    clock: 123_456n,
    resetCount: 1,
    restartCount: 0,
    safe: 1,
    firmwareVersion: 0x2019_1023_0016_3a00n,
    banks: [{ hash: 0x000b, select: pcrBitmap(8) }],
    pcrDigest: new Uint8Array(32).fill(3),
    ...fields,
  };
  return concat(
    u32(all.magic),
    u16(all.type),
    tpm2b(all.qualifiedSigner),
    tpm2b(all.extraData),
    u64(all.clock),
    u32(all.resetCount),
    u32(all.restartCount),
    u8(all.safe),
    u64(all.firmwareVersion),
    u32(all.banks.length),
    ...all.banks.map((bank) => concat(u16(bank.hash), u8(bank.select.byteLength), bank.select)),
    tpm2b(all.pcrDigest),
  );
}

/** TPMT_SIGNATURE of ECDSA: sigAlg ‖ hash ‖ TPM2B r ‖ TPM2B s. */
export const marshalSignature = (r: Uint8Array, s: Uint8Array, sigAlg = 0x0018, hash = 0x000b): Uint8Array =>
  concat(u16(sigAlg), u16(hash), tpm2b(r), tpm2b(s));

/** r and s of ECDSA P-256 over SHA-256(data), 32 bytes each. */
export function signRaw(privateKey: KeyObject, data: Uint8Array): { r: Uint8Array; s: Uint8Array } {
  const p1363 = Uint8Array.from(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  return { r: p1363.slice(0, 32), s: p1363.slice(32) };
}

/** A TPMT_SIGNATURE over `attest`, as the TPM signs a quote. */
export function signAttest(privateKey: KeyObject, attest: Uint8Array): Uint8Array {
  const { r, s } = signRaw(privateKey, attest);
  return marshalSignature(r, s);
}

/** Real TPM output: scripts/tpm-quote-fixture.ts made it with swtpm and tpm2-tools. */
export interface TpmQuoteFixture {
  /** TPM2B_PUBLIC of the identity key, from `tpm2_create -u`. */
  readonly tpmPublic: string;
  /** The same key's SPKI, from `tpm2_readpublic -f der`. */
  readonly identityKey: string;
  readonly nonce: string;
  readonly iat: number;
  /** SPKI of the certificate key the EAT proposes. */
  readonly certificateKey: string;
  readonly eatPayload: string;
  /** The EAT, signed by the identity key through a TPM2_Hash ticket. */
  readonly evidence: string;
  readonly bootLog: BootLogEntry[];
  /** PCR 8 (sha256) as `tpm2_pcrread` read it after the boot log was extended, hex. */
  readonly pcr8: string;
  /** `tpm2_quote -m`: TPMS_ATTEST. */
  readonly attest: string;
  /** `tpm2_quote -s`: TPMT_SIGNATURE. */
  readonly signature: string;
}

export const tpmQuoteFixture = JSON.parse(
  readFileSync(new URL('./tpm-quote-fixture.json', import.meta.url), 'utf8'),
) as TpmQuoteFixture;
