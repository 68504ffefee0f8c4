import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ServiceError } from '../errors.ts';

/**
 * Password hashing with Argon2id (RFC 9106) from OpenSSL, through node:crypto: memory-hard,
 * so a stolen database costs an attacker memory per guess, not just CPU. Parameters follow
 * OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane); hashes are stored as PHC strings so
 * the parameters can be raised later without invalidating existing ones.
 */
const argon2Async = promisify(argon2);

export const PASSWORD_MIN_CHARACTERS = 12;
/** Longer inputs are refused before hashing: the hash's cost must not grow with the input. */
export const PASSWORD_MAX_BYTES = 1024;

const PARAMETERS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;
const SALT_BYTES = 16;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

async function derive(
  password: string,
  salt: Uint8Array,
  memory: number,
  passes: number,
  parallelism: number,
) {
  return new Uint8Array(
    await argon2Async('argon2id', {
      message: Buffer.from(password, 'utf8'),
      nonce: salt,
      memory,
      passes,
      parallelism,
      tagLength: PARAMETERS.tagLength,
    }),
  );
}

/** Refuses passwords that are too short or too long, with a code people can act on. */
export function assertAcceptablePassword(password: string): void {
  // Counted in code points, so a password of emoji is not judged by its UTF-16 length.
  if (Array.from(password).length < PASSWORD_MIN_CHARACTERS) {
    throw new ServiceError(
      'AUTH_PASSWORD_TOO_WEAK',
      `passwords have at least ${PASSWORD_MIN_CHARACTERS} characters`,
    );
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new ServiceError('AUTH_PASSWORD_TOO_WEAK', `passwords have at most ${PASSWORD_MAX_BYTES} bytes`);
  }
}

/** A PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  assertAcceptablePassword(password);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, PARAMETERS.memory, PARAMETERS.passes, PARAMETERS.parallelism);
  return `$argon2id$v=19$m=${PARAMETERS.memory},t=${PARAMETERS.passes},p=${PARAMETERS.parallelism}$${b64(salt)}$${b64(hash)}`;
}

/** Never throws for a wrong password; compares in constant time. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const match = PHC.exec(stored);
  if (match === null || Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return false;
  const [, memory, passes, parallelism, salt, expected] = match;
  const expectedBytes = Buffer.from(expected ?? '', 'base64');
  const actual = await derive(
    password,
    Buffer.from(salt ?? '', 'base64'),
    Number(memory),
    Number(passes),
    Number(parallelism),
  );
  return actual.byteLength === expectedBytes.byteLength && timingSafeEqual(actual, expectedBytes);
}
