import { decodeBase64Url, P1363_SIGNATURE_BYTES } from '@orbis/crypto';
import { EAT_JWT_TYPE, MAX_EVIDENCE_BYTES } from '@orbis/protocol';
import { AttestationError } from '../errors.ts';

/** The evidence as a compact JWS whose header has been checked. Nothing is authenticated yet. */
export interface EvidenceJws {
  /** ASCII(BASE64URL(header) '.' BASE64URL(payload)): what the signature covers (RFC 7515 5.2). */
  readonly signingInput: Uint8Array;
  readonly payload: Uint8Array;
  /** ES256: r ‖ s, 64 bytes (RFC 7518 section 3.4). */
  readonly signature: Uint8Array;
}

const HEADER_MEMBERS = ['alg', 'typ'].join();
/** Most header encodings remembered as accepted (whitespace and order give a header many spellings). */
export const MAX_REMEMBERED_HEADERS = 16;
/** Header segments already checked and accepted: devices send the same few, so most skip the JSON. */
const acceptedHeaders = new Set<string>();

function decodeSegment(segment: string, what: string): Uint8Array {
  try {
    return decodeBase64Url(segment);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_EVIDENCE_MALFORMED', `${what} is not strict base64url`, {
      cause,
    });
  }
}

function headerInvalid(reason: string, cause?: unknown): AttestationError {
  return new AttestationError('ATTESTATION_HEADER_INVALID', `evidence header: ${reason}`, { cause });
}

/**
 * The protected header must be exactly {"alg":"ES256","typ":"eat+jwt"}, members in any order.
 * Every other member is refused, not ignored: `crit` (RFC 7515 4.1.11) would oblige us to
 * understand extensions, and `jwk`/`jku`/`x5u`/`x5c`/`kid` would let the evidence choose its
 * own verification key; the key is always the device's registered identity key.
 */
function checkHeader(bytes: Uint8Array): void {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch (cause) {
    throw headerInvalid('not UTF-8 JSON', cause);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw headerInvalid('not a JSON object');
  }
  if (Object.keys(header).sort().join() !== HEADER_MEMBERS) {
    throw headerInvalid('members other than exactly alg and typ');
  }
  const { alg, typ } = header as Record<string, unknown>;
  if (alg !== 'ES256') throw headerInvalid('alg is not ES256');
  if (typ !== EAT_JWT_TYPE) throw headerInvalid(`typ is not ${EAT_JWT_TYPE}`);
}

/**
 * Splits and decodes compact-serialized evidence (RFC 7515 section 7.1), bounding its size
 * before anything else. Duplicate header members resolve to the lexically last one (RFC 7515
 * section 4), which is what JSON.parse does.
 */
export function parseEvidenceJws(evidence: string): EvidenceJws {
  if (evidence.length > MAX_EVIDENCE_BYTES) {
    throw new AttestationError(
      'ATTESTATION_EVIDENCE_TOO_LARGE',
      `evidence is longer than ${MAX_EVIDENCE_BYTES} bytes`,
    );
  }
  const segments = evidence.split('.');
  if (segments.length !== 3) {
    throw new AttestationError('ATTESTATION_EVIDENCE_MALFORMED', 'a compact JWS has exactly three segments');
  }
  const [headerText, payloadText, signatureText] = segments as [string, string, string];
  if (!acceptedHeaders.has(headerText)) {
    checkHeader(decodeSegment(headerText, 'the header'));
    if (acceptedHeaders.size < MAX_REMEMBERED_HEADERS) acceptedHeaders.add(headerText);
  }
  const payload = decodeSegment(payloadText, 'the payload');
  const signature = decodeSegment(signatureText, 'the signature');
  if (signature.byteLength !== P1363_SIGNATURE_BYTES) {
    throw new AttestationError('ATTESTATION_EVIDENCE_MALFORMED', 'an ES256 signature is 64 bytes');
  }
  // Every character is base64url (checked above), so the text is ASCII and encodes 1:1: the
  // signing input is the evidence's own first two segments and their dot, copied as bytes.
  const ascii = Buffer.from(evidence.slice(0, headerText.length + 1 + payloadText.length), 'latin1');
  const signingInput = new Uint8Array(ascii.buffer, ascii.byteOffset, ascii.byteLength);
  return { signingInput, payload, signature };
}
