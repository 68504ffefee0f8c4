import { randomBytes } from 'node:crypto';
import { encodeHex, sha256 } from '@orbis/crypto';

/**
 * Bearer tokens: 32 random bytes, shown to their owner once and stored only as SHA-256. A
 * prefix names the kind, so a leaked token is recognisable in logs and secret scanners.
 */
export const TOKEN_PREFIXES = { session: 'orbis_s_', api: 'orbis_a_', setup: 'orbis_setup_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIXES;

const TOKEN_SECRET_BYTES = 32;
const TOKEN_PATTERN = /^orbis_(s|a|setup)_[A-Za-z0-9_-]{43}$/;

export function generateToken(kind: TokenKind): string {
  return TOKEN_PREFIXES[kind] + randomBytes(TOKEN_SECRET_BYTES).toString('base64url');
}

/** What the database stores: the token's SHA-256, hex. High-entropy secrets need no slow hash. */
export function hashToken(token: string): string {
  return encodeHex(sha256(Buffer.from(token, 'utf8')));
}

/** The token in an `Authorization: Bearer …` header, or undefined if the header is absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([^\s]+)$/.exec(header);
  const token = match?.[1];
  return token !== undefined && TOKEN_PATTERN.test(token) ? token : undefined;
}
