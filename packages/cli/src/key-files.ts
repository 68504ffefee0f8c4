import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import {
  createSoftwareSigner,
  generateSoftwareSigner,
  parsePublicKeySpki,
  type PublicKey,
  type Signer,
} from '@orbis/crypto';
import { CliError } from './errors.ts';

/**
 * Key files for developers: a P-256 private key as PKCS#8 PEM (mode 0600), or a public key as
 * SPKI PEM or DER. Keys held by the service live in its KeyStore, never in these files.
 */

async function readKeyFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}`, { cause });
  }
}

export async function loadSigner(path: string): Promise<Signer> {
  const bytes = await readKeyFile(path);
  try {
    return createSoftwareSigner(createPrivateKey(bytes));
  } catch (cause) {
    throw new CliError('CLI_KEY_INVALID', `${path} is not an ECDSA P-256 private key`, { cause });
  }
}

/** Reads a public key from SPKI PEM or DER, or the public half of a private-key file. */
export async function loadPublicKey(path: string): Promise<PublicKey> {
  const bytes = await readKeyFile(path);
  const pem = bytes.toString('latin1').includes('-----BEGIN');
  try {
    const keyObject = pem
      ? createPublicKey(bytes)
      : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    return parsePublicKeySpki(keyObject.export({ format: 'der', type: 'spki' }));
  } catch (cause) {
    throw new CliError('CLI_KEY_INVALID', `${path} is not an ECDSA P-256 public key`, { cause });
  }
}

/** Writes a new private key (refusing to overwrite) and its public key beside it. */
export async function writeNewKeyPair(path: string): Promise<PublicKey> {
  const { signer, exportPkcs8 } = generateSoftwareSigner();
  const privatePem = createPrivateKey({
    key: Buffer.from(exportPkcs8()),
    format: 'der',
    type: 'pkcs8',
  }).export({
    format: 'pem',
    type: 'pkcs8',
  });
  const publicPem = createPublicKey({
    key: Buffer.from(signer.publicKey.spki),
    format: 'der',
    type: 'spki',
  }).export({
    format: 'pem',
    type: 'spki',
  });
  try {
    await writeFile(path, privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(`${path}.pub`, publicPem, { flag: 'wx' });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${path} or ${path}.pub exists or cannot be written`, { cause });
  }
  return signer.publicKey;
}
