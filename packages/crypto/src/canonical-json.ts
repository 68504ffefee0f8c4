import { CryptoError } from './errors.ts';

/**
 * JSON Canonicalization Scheme, RFC 8785, for Orbis's own signed JSON objects (capabilities,
 * image headers, manufacturer lists). TUF metadata keeps TUF's own canonical JSON.
 *
 * ECMAScript's JSON serialization of strings and numbers is exactly what RFC 8785 sections
 * 3.2.2.2 and 3.2.2.3 prescribe; this adds the I-JSON restrictions (RFC 7493) and the member
 * ordering of section 3.2.3 (by UTF-16 code units, which is what Array.prototype.sort does).
 */

/** Deeper nesting is refused rather than risking the stack on hostile input. */
export const MAX_CANONICAL_JSON_DEPTH = 64;

function invalid(reason: string): CryptoError {
  return new CryptoError('CRYPTO_CANONICAL_JSON_INVALID', `cannot canonicalize: ${reason}`);
}

function serialize(value: unknown, depth: number): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid('non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw invalid('string with a lone surrogate');
    return JSON.stringify(value);
  }
  if (typeof value !== 'object') throw invalid(`a value of type ${typeof value}`);
  if (depth >= MAX_CANONICAL_JSON_DEPTH) throw invalid('nested too deeply');
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => serialize(item, depth + 1)).join(',')}]`;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw invalid('an object that is not plain JSON');
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .map((key) => `${serialize(key, depth)}:${serialize(record[key], depth + 1)}`);
  return `{${members.join(',')}}`;
}

/** The RFC 8785 canonical form of a JSON value, as text. */
export function canonicalizeJson(value: unknown): string {
  return serialize(value, 0);
}

/** The RFC 8785 canonical form as UTF-8 bytes: what Orbis signs. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalizeJson(value));
}

/**
 * Strict: `bytes` must be UTF-8 JSON already in canonical form. Anything that would read two
 * ways (duplicate members, other whitespace, other number spellings, a byte-order mark) is
 * refused with CRYPTO_CANONICAL_JSON_INVALID; bytes that are not JSON with CRYPTO_JSON_INVALID.
 */
export function parseCanonicalJson(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch (cause) {
    throw new CryptoError('CRYPTO_JSON_INVALID', 'not UTF-8 JSON', { cause });
  }
  const canonical = canonicalJsonBytes(value);
  if (Buffer.compare(canonical, bytes) !== 0) throw invalid('bytes are not in canonical form');
  return value;
}
