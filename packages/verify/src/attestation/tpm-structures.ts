import { parsePublicKeyRaw, sha256, SHA256_BYTES, type PublicKey } from '@orbis/crypto';
import { MAX_TPM_PUBLIC_BYTES } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';
import { TpmReader, TpmStructureError } from './tpm-reader.ts';

/*
 * The three TPM 2.0 structures the TPM backend's evidence carries, read strictly (TPM 2.0
 * Library, Part 2): the identity key's public area (TPM2B_PUBLIC, from the device list), and a
 * quote's attestation (TPMS_ATTEST) and signature (TPMT_SIGNATURE). Each parser accepts exactly
 * the one profile Orbis uses, an ECDSA P-256 key with SHA-256, and throws TpmStructureError for
 * anything else; the caller says what that means in its area.
 */

/** TPM_ALG_ID values (Part 2, 6.3). */
export const TPM_ALG = { sha256: 0x000b, null: 0x0010, ecdsa: 0x0018, ecc: 0x0023 } as const;
/** TPM_ECC_NIST_P256 (Part 2, 6.4). */
export const TPM_ECC_NIST_P256 = 0x0003;
/** TPM_GENERATED_VALUE (Part 2, 6.2): the TPM puts it first in every structure it signs. */
export const TPM_GENERATED_VALUE = 0xff544347;
/** TPM_ST_ATTEST_QUOTE (Part 2, 6.9): the TPMS_ATTEST of a TPM2_Quote. */
export const TPM_ST_ATTEST_QUOTE = 0x8018;

/** TPMA_OBJECT bits (Part 2, 8.3) that decide whether a key can sign a forged quote. */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

const REQUIRED_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.sign;

/** The largest digest a TPM2B_DIGEST or TPM2B_DATA holds here: SHA-512's, in bytes. */
const MAX_DIGEST_BYTES = 64;
/** A TPM2B_NAME holds a TPMT_HA (algorithm ‖ digest) or a 4-byte handle, in bytes. */
const MAX_NAME_BYTES = 2 + MAX_DIGEST_BYTES;
/** Most banks a PCR selection may list: more than any TPM implements hash algorithms. */
const MAX_PCR_BANKS = 16;
/** Most bytes of a PCR bitmap (256 PCRs); TPMs implement 24, a 3-byte bitmap. */
const MAX_PCR_SELECT_BYTES = 32;
const P256_COORDINATE_BYTES = 32;

/** The identity key's public area, as registered by its manufacturer. */
export interface TpmIdentityPublic {
  /** TPMA_OBJECT, as the TPM will enforce it. */
  readonly objectAttributes: number;
  /** The key's point as a canonical P-256 public key. */
  readonly publicKey: PublicKey;
  /** The TPM name: nameAlg (SHA-256) ‖ SHA-256(TPMT_PUBLIC), 34 bytes (Part 1, "Names"). */
  readonly name: Uint8Array;
  /** The TPM2B_PUBLIC exactly as given. */
  readonly bytes: Uint8Array;
}

/** One bank of a PCR selection: its hash algorithm and the PCR indices selected, ascending. */
export interface TpmPcrSelection {
  readonly hash: number;
  readonly pcrs: readonly number[];
}

/** A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, its magic and type checked. */
export interface TpmQuoteAttest {
  /** The qualified name of the key that signed (Part 1, "Qualified Name"). */
  readonly qualifiedSigner: Uint8Array;
  /** The qualifying data the quote was asked for. */
  readonly extraData: Uint8Array;
  readonly clockInfo: {
    readonly clock: bigint;
    readonly resetCount: number;
    readonly restartCount: number;
    readonly safe: boolean;
  };
  readonly firmwareVersion: bigint;
  readonly pcrSelection: readonly TpmPcrSelection[];
  /** The digest of the selected PCRs' values, concatenated in selection order. */
  readonly pcrDigest: Uint8Array;
}

function readPoint(reader: TpmReader): PublicKey {
  const xy = new Uint8Array(2 * P256_COORDINATE_BYTES);
  xy.set(reader.sized('unique.x', P256_COORDINATE_BYTES, P256_COORDINATE_BYTES), 0);
  xy.set(reader.sized('unique.y', P256_COORDINATE_BYTES, P256_COORDINATE_BYTES), P256_COORDINATE_BYTES);
  try {
    return parsePublicKeyRaw(xy);
  } catch (cause) {
    throw new TpmStructureError('TPM2B_PUBLIC: unique is not a point on P-256', { cause });
  }
}

/**
 * Parses a TPM2B_PUBLIC as `tpm2_create -u` writes it: an ECC key with nameAlg SHA-256, no
 * symmetric algorithm (a signing key), scheme ECDSA with SHA-256, curve NIST P-256, no KDF,
 * and a 32-byte x and y that are a point on the curve. The attributes are returned, not
 * judged: assertRestrictedSigningKey does that.
 */
export function parseTpmIdentityPublic(bytes: Uint8Array): TpmIdentityPublic {
  const outer = new TpmReader(bytes, 'TPM2B_PUBLIC');
  const area = outer.sized('publicArea', MAX_TPM_PUBLIC_BYTES);
  outer.end();
  const reader = new TpmReader(area, 'TPMT_PUBLIC');
  reader.expectU16('type', TPM_ALG.ecc);
  reader.expectU16('nameAlg', TPM_ALG.sha256);
  const objectAttributes = reader.u32('objectAttributes');
  reader.sized('authPolicy', MAX_DIGEST_BYTES);
  // TPMS_ECC_PARMS: a NULL symmetric or KDF algorithm has no further fields (Part 2).
  reader.expectU16('symmetric.algorithm', TPM_ALG.null);
  reader.expectU16('scheme.scheme', TPM_ALG.ecdsa);
  reader.expectU16('scheme.hashAlg', TPM_ALG.sha256);
  reader.expectU16('curveID', TPM_ECC_NIST_P256);
  reader.expectU16('kdf.scheme', TPM_ALG.null);
  const publicKey = readPoint(reader);
  reader.end();
  const name = new Uint8Array(2 + SHA256_BYTES);
  name.set([TPM_ALG.sha256 >> 8, TPM_ALG.sha256 & 0xff], 0);
  name.set(sha256(area), 2);
  return Object.freeze({ objectAttributes, publicKey, name, bytes: bytes.slice() });
}

/**
 * Never throws: whether the key is one only its TPM holds (fixedTPM, fixedParent, generated
 * inside it: sensitiveDataOrigin) and that signs only what the TPM itself made or hashed
 * (restricted, sign, not decrypt). A key without `restricted` would sign any digest, so it
 * could sign a TPMS_ATTEST that the software composed with whatever PCR values it liked.
 */
export function isRestrictedSigningKey(pub: Pick<TpmIdentityPublic, 'objectAttributes'>): boolean {
  const attributes = pub.objectAttributes;
  return (
    (attributes & REQUIRED_ATTRIBUTES) === REQUIRED_ATTRIBUTES && (attributes & TPMA_OBJECT.decrypt) === 0
  );
}

/** Throws ATTESTATION_TPM_KEY_NOT_RESTRICTED unless isRestrictedSigningKey. */
export function assertRestrictedSigningKey(pub: Pick<TpmIdentityPublic, 'objectAttributes'>): void {
  if (!isRestrictedSigningKey(pub)) {
    throw new AttestationError(
      'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
      `TPM key attributes 0x${pub.objectAttributes.toString(16)} are not a restricted signing key's`,
    );
  }
}

/** TPMS_PCR_SELECTION: bit j of byte i of the bitmap selects PCR 8i + j (Part 2). */
function readPcrSelection(reader: TpmReader): TpmPcrSelection {
  const hash = reader.u16('pcrSelect.hash');
  const size = reader.u8('pcrSelect.sizeofSelect');
  if (size > MAX_PCR_SELECT_BYTES)
    throw reader.fail(`sizeofSelect ${size} is more than ${MAX_PCR_SELECT_BYTES}`);
  const bitmap = reader.bytes(size, 'pcrSelect.pcrSelect');
  const pcrs: number[] = [];
  bitmap.forEach((byte, index) => {
    for (let bit = 0; bit < 8; bit += 1) if (byte & (1 << bit)) pcrs.push(index * 8 + bit);
  });
  return { hash, pcrs };
}

/**
 * Parses a TPMS_ATTEST (Part 2) that must be a quote: magic TPM_GENERATED_VALUE, type
 * TPM_ST_ATTEST_QUOTE, then the signer's qualified name, the qualifying data, the clock, the
 * firmware version and TPMS_QUOTE_INFO (a PCR selection and the digest of those PCRs).
 */
export function parseQuoteAttest(bytes: Uint8Array): TpmQuoteAttest {
  const reader = new TpmReader(bytes, 'TPMS_ATTEST');
  const magic = reader.u32('magic');
  if (magic !== TPM_GENERATED_VALUE) throw reader.fail('magic is not TPM_GENERATED_VALUE');
  reader.expectU16('type', TPM_ST_ATTEST_QUOTE);
  const qualifiedSigner = reader.sized('qualifiedSigner', MAX_NAME_BYTES);
  const extraData = reader.sized('extraData', MAX_DIGEST_BYTES);
  const clock = reader.u64('clockInfo.clock');
  const resetCount = reader.u32('clockInfo.resetCount');
  const restartCount = reader.u32('clockInfo.restartCount');
  const safe = reader.u8('clockInfo.safe');
  // TPMI_YES_NO: any other byte would give one attestation two encodings.
  if (safe > 1) throw reader.fail('clockInfo.safe is neither YES nor NO');
  const firmwareVersion = reader.u64('firmwareVersion');
  const banks = reader.u32('pcrSelect.count');
  if (banks > MAX_PCR_BANKS) throw reader.fail(`${banks} PCR banks, more than ${MAX_PCR_BANKS}`);
  const pcrSelection = Array.from({ length: banks }, () => readPcrSelection(reader));
  const pcrDigest = reader.sized('pcrDigest', MAX_DIGEST_BYTES);
  reader.end();
  return {
    qualifiedSigner,
    extraData,
    clockInfo: { clock, resetCount, restartCount, safe: safe === 1 },
    firmwareVersion,
    pcrSelection,
    pcrDigest,
  };
}

/** A TPM2B_ECC_PARAMETER holding r or s: 1 to 32 bytes, not zero, left-padded to 32. */
function readScalar(reader: TpmReader, field: string): Uint8Array {
  const digits = reader.sized(field, P256_COORDINATE_BYTES, 1);
  if (digits.every((byte) => byte === 0)) throw reader.fail(`${field} is zero`);
  const scalar = new Uint8Array(P256_COORDINATE_BYTES);
  scalar.set(digits, P256_COORDINATE_BYTES - digits.byteLength);
  return scalar;
}

/**
 * Parses a TPMT_SIGNATURE (Part 2) that must be ECDSA with SHA-256, and returns the
 * signature as r ‖ s (IEEE P1363, 64 bytes). TPMs write r and s at the key's size, 32 bytes;
 * a shorter big-endian value is the same number and is accepted. Whether r and s are below the
 * group order is the signature check's business.
 */
export function parseEcdsaSignature(bytes: Uint8Array): Uint8Array {
  const reader = new TpmReader(bytes, 'TPMT_SIGNATURE');
  reader.expectU16('sigAlg', TPM_ALG.ecdsa);
  reader.expectU16('hash', TPM_ALG.sha256);
  const r = readScalar(reader, 'signatureR');
  const s = readScalar(reader, 'signatureS');
  reader.end();
  const signature = new Uint8Array(2 * P256_COORDINATE_BYTES);
  signature.set(r, 0);
  signature.set(s, P256_COORDINATE_BYTES);
  return signature;
}
