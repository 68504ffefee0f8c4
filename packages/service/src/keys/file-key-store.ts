import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_NAME_PATTERN, type KeyStore, type KeyStoreEntry } from '@orbis/ca';
import {
  createSoftwareSigner,
  decodeBase64Url,
  encodeBase64Url,
  generateSoftwareSigner,
  type Signer,
} from '@orbis/crypto';
import { ServiceError } from '../errors.ts';

/**
 * The default KeyStore: one file per key, its secret encrypted with AES-256-GCM under a master
 * key from configuration (never stored beside the files). The key's name and kind are the
 * authenticated data, so a file renamed or swapped for another key's file does not decrypt.
 * Files are written atomically (temporary file, fsync, rename, directory fsync).
 */
const FILE_VERSION = 1;
export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const HMAC_SECRET_BYTES = 32;

interface KeyFile {
  readonly version: typeof FILE_VERSION;
  readonly kind: 'signing' | 'hmac';
  readonly createdAt: number;
  readonly keyId?: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

export interface FileKeyStoreOptions {
  readonly directory: string;
  readonly masterKey: Uint8Array;
  /** Milliseconds since the epoch, for createdAt. */
  readonly now: () => number;
}

function additionalData(name: string, kind: KeyFile['kind']): Buffer {
  return Buffer.from(`orbis-key-store:v${FILE_VERSION}:${name}:${kind}`, 'utf8');
}

function assertName(name: string): void {
  if (!KEY_NAME_PATTERN.test(name) || name.length > 128) {
    throw new ServiceError('KEYSTORE_NAME_INVALID', `not a key name: ${JSON.stringify(name)}`);
  }
}

export async function writeFileAtomically(directory: string, file: string, contents: string): Promise<void> {
  const target = join(directory, file);
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, target);
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export class FileKeyStore implements KeyStore {
  readonly #directory: string;
  readonly #masterKey: Buffer;
  readonly #now: () => number;
  readonly #signers = new Map<string, Signer>();
  readonly #secrets = new Map<string, Uint8Array>();

  private constructor(options: FileKeyStoreOptions) {
    this.#directory = options.directory;
    this.#masterKey = Buffer.from(options.masterKey);
    this.#now = options.now;
  }

  static async open(options: FileKeyStoreOptions): Promise<FileKeyStore> {
    if (options.masterKey.byteLength !== MASTER_KEY_BYTES) {
      throw new ServiceError('KEYSTORE_MASTER_KEY_INVALID', `the master key is ${MASTER_KEY_BYTES} bytes`);
    }
    await mkdir(options.directory, { recursive: true, mode: 0o700 });
    return new FileKeyStore(options);
  }

  #path(name: string): string {
    return join(this.#directory, `${name}.key.json`);
  }

  #tombstone(name: string): string {
    return join(this.#directory, `${name}.offline.json`);
  }

  async #readTombstone(
    name: string,
  ): Promise<{ keyId?: string; kind: KeyFile['kind']; removedAt: number } | undefined> {
    try {
      return JSON.parse(await readFile(this.#tombstone(name), 'utf8')) as {
        keyId?: string;
        kind: KeyFile['kind'];
        removedAt: number;
      };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw cause;
    }
  }

  async #write(name: string, kind: KeyFile['kind'], secret: Uint8Array, keyId?: string): Promise<void> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#masterKey, iv).setAAD(additionalData(name, kind));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    const file: KeyFile = {
      version: FILE_VERSION,
      kind,
      createdAt: this.#now(),
      ...(keyId === undefined ? {} : { keyId }),
      iv: encodeBase64Url(iv),
      ciphertext: encodeBase64Url(ciphertext),
      tag: encodeBase64Url(cipher.getAuthTag()),
    };
    if (await this.has(name)) throw new ServiceError('KEYSTORE_KEY_EXISTS', `key ${name} exists`);
    if ((await this.#readTombstone(name)) !== undefined) {
      throw new ServiceError('KEYSTORE_KEY_OFFLINE', `key ${name} was taken offline; its name is not reused`);
    }
    await writeFileAtomically(this.#directory, `${name}.key.json`, JSON.stringify(file));
  }

  async #readFile(name: string): Promise<KeyFile | undefined> {
    assertName(name);
    let text: string;
    try {
      text = await readFile(this.#path(name), 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw cause;
    }
    return JSON.parse(text) as KeyFile;
  }

  async #decrypt(name: string, kind: KeyFile['kind']): Promise<Uint8Array> {
    const file = await this.#readFile(name);
    if (file?.kind !== kind) throw new ServiceError('KEYSTORE_KEY_NOT_FOUND', `no ${kind} key named ${name}`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#masterKey, decodeBase64Url(file.iv))
        .setAAD(additionalData(name, kind))
        .setAuthTag(decodeBase64Url(file.tag));
      return Buffer.concat([decipher.update(decodeBase64Url(file.ciphertext)), decipher.final()]);
    } catch (cause) {
      throw new ServiceError(
        'KEYSTORE_DECRYPT_FAILED',
        `key ${name} does not decrypt: wrong master key or altered file`,
        {
          cause,
        },
      );
    }
  }

  async createSigningKey(name: string): Promise<Signer> {
    assertName(name);
    const { signer, exportPkcs8 } = generateSoftwareSigner();
    await this.#write(name, 'signing', exportPkcs8(), signer.publicKey.keyId);
    this.#signers.set(name, signer);
    return signer;
  }

  async getSigner(name: string): Promise<Signer> {
    const cached = this.#signers.get(name);
    if (cached) return cached;
    const pkcs8 = await this.#decrypt(name, 'signing');
    const signer = createSoftwareSigner(
      createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }),
    );
    this.#signers.set(name, signer);
    return signer;
  }

  async getHmacSecret(name: string): Promise<Uint8Array> {
    const cached = this.#secrets.get(name);
    if (cached) return cached;
    let secret: Uint8Array;
    if (await this.has(name)) {
      secret = await this.#decrypt(name, 'hmac');
    } else {
      secret = randomBytes(HMAC_SECRET_BYTES);
      await this.#write(name, 'hmac', secret);
    }
    this.#secrets.set(name, secret);
    return secret;
  }

  async has(name: string): Promise<boolean> {
    return (await this.#readFile(name)) !== undefined;
  }

  async list(): Promise<readonly KeyStoreEntry[]> {
    const files = await readdir(this.#directory);
    const entries: KeyStoreEntry[] = [];
    for (const file of files) {
      if (file.endsWith('.key.json')) {
        const name = file.slice(0, -'.key.json'.length);
        const key = await this.#readFile(name);
        if (key === undefined) continue;
        const { kind, createdAt, keyId } = key;
        entries.push({ name, kind, createdAt, offline: false, ...(keyId === undefined ? {} : { keyId }) });
      } else if (file.endsWith('.offline.json')) {
        const name = file.slice(0, -'.offline.json'.length);
        const tombstone = await this.#readTombstone(name);
        if (tombstone === undefined) continue;
        const { kind, removedAt, keyId } = tombstone;
        entries.push({
          name,
          kind,
          createdAt: removedAt,
          offline: true,
          ...(keyId === undefined ? {} : { keyId }),
        });
      }
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async exportKey(name: string): Promise<Uint8Array> {
    return this.#decrypt(name, 'signing');
  }

  async removeKey(name: string): Promise<void> {
    const file = await this.#readFile(name);
    if (file === undefined) throw new ServiceError('KEYSTORE_KEY_NOT_FOUND', `no key named ${name}`);
    const tombstone = {
      kind: file.kind,
      removedAt: this.#now(),
      ...(file.keyId ? { keyId: file.keyId } : {}),
    };
    await writeFileAtomically(this.#directory, `${name}.offline.json`, JSON.stringify(tombstone));
    await rm(this.#path(name));
    this.#signers.delete(name);
    this.#secrets.delete(name);
  }
}
