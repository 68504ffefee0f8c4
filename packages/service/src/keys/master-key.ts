import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64Url, encodeBase64Url } from '@orbis/crypto';
import { ServiceError } from '../errors.ts';
import { MASTER_KEY_BYTES, writeFileAtomically } from './file-key-store.ts';

/**
 * The master key that encrypts the KeyStore's files. In production it comes from a secret
 * store, as ORBIS_MASTER_KEY (base64url of 32 bytes) or ORBIS_MASTER_KEY_FILE. For a lab
 * (`npm start`) a key may be generated into the data directory; it then sits beside the files
 * it protects, which protects nothing against someone who can read that directory, and the
 * service says so in its log.
 */
export interface MasterKeySource {
  readonly masterKey?: string;
  readonly masterKeyFile?: string;
  readonly dataDir: string;
  /** Only for labs and development: create dataDir/master.key when no key is configured. */
  readonly allowGenerated: boolean;
}

/** Where the master key comes from, as ORBIS_MASTER_KEY and ORBIS_MASTER_KEY_FILE say (empty is unset). */
export function masterKeySourceFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string,
  allowGenerated: boolean,
): MasterKeySource {
  const masterKey = env['ORBIS_MASTER_KEY'];
  const masterKeyFile = env['ORBIS_MASTER_KEY_FILE'];
  return {
    ...(masterKey ? { masterKey } : {}),
    ...(masterKeyFile ? { masterKeyFile } : {}),
    dataDir,
    allowGenerated,
  };
}

export interface LoadedMasterKey {
  readonly key: Uint8Array;
  readonly origin: 'environment' | 'file' | 'generated';
}

const GENERATED_FILE = 'master.key';

function parseKey(text: string, where: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = decodeBase64Url(text.trim());
  } catch (cause) {
    throw new ServiceError('KEYSTORE_MASTER_KEY_INVALID', `${where} is not base64url`, { cause });
  }
  if (key.byteLength !== MASTER_KEY_BYTES) {
    throw new ServiceError(
      'KEYSTORE_MASTER_KEY_INVALID',
      `${where} holds ${key.byteLength} bytes, not ${MASTER_KEY_BYTES}`,
    );
  }
  return key;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
}

export async function loadMasterKey(source: MasterKeySource): Promise<LoadedMasterKey> {
  if (source.masterKey !== undefined)
    return { key: parseKey(source.masterKey, 'ORBIS_MASTER_KEY'), origin: 'environment' };
  if (source.masterKeyFile !== undefined) {
    const text = await readIfPresent(source.masterKeyFile);
    if (text === undefined)
      throw new ServiceError('KEYSTORE_MASTER_KEY_INVALID', `${source.masterKeyFile} does not exist`);
    return { key: parseKey(text, source.masterKeyFile), origin: 'file' };
  }
  const generatedPath = join(source.dataDir, GENERATED_FILE);
  const existing = await readIfPresent(generatedPath);
  if (existing !== undefined) return { key: parseKey(existing, generatedPath), origin: 'generated' };
  if (!source.allowGenerated) {
    throw new ServiceError(
      'KEYSTORE_MASTER_KEY_INVALID',
      'no master key: set ORBIS_MASTER_KEY or ORBIS_MASTER_KEY_FILE (or start a lab with `npm start`)',
    );
  }
  await mkdir(source.dataDir, { recursive: true, mode: 0o700 });
  const key = new Uint8Array(randomBytes(MASTER_KEY_BYTES));
  await writeFileAtomically(source.dataDir, GENERATED_FILE, `${encodeBase64Url(key)}\n`);
  return { key, origin: 'generated' };
}
