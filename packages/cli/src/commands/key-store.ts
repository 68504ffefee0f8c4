import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OFFLINE_KEY_NAMES } from '@orbis/ca';
import { FileKeyStore, loadMasterKey, masterKeySourceFromEnv } from '@orbis/service';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/**
 * `orbis keys list | export | remove`: the service's KeyStore, opened in process from the
 * data directory with the same master key the service uses. Exporting and then removing a key
 * is how the keys ARCHITECTURE.md calls offline leave a running service.
 */
export interface KeyStoreOptions {
  readonly dataDir: string;
  readonly json: boolean;
}

async function openKeyStore(dataDir: string): Promise<FileKeyStore> {
  const directory = resolve(dataDir);
  const master = await loadMasterKey(masterKeySourceFromEnv(process.env, directory, false));
  return FileKeyStore.open({
    directory: resolve(directory, 'keys'),
    masterKey: master.key,
    now: () => Date.now(),
  });
}

const isOffline = (name: string) => (OFFLINE_KEY_NAMES as readonly string[]).includes(name);

export async function listKeysCommand(options: KeyStoreOptions, out: Output): Promise<void> {
  const entries = await (await openKeyStore(options.dataDir)).list();
  const rows = entries.map((entry) => ({ ...entry, shouldBeOffline: isOffline(entry.name) }));
  if (options.json) {
    printJson(out, { keys: rows });
    return;
  }
  out.write(
    formatTable(
      ['name', 'kind', 'key ID', 'since', 'state'],
      rows.map((row) => [
        row.name,
        row.kind,
        row.keyId ?? '',
        new Date(row.createdAt).toISOString(),
        row.offline ? 'offline' : row.shouldBeOffline ? 'online: export it, then remove it' : 'online',
      ]),
    ),
  );
}

export interface ExportKeyOptions extends KeyStoreOptions {
  readonly out: string;
  /** A file holding the passphrase that encrypts the exported PKCS#8; plaintext otherwise. */
  readonly passphraseFile?: string;
}

export async function exportKeyCommand(name: string, options: ExportKeyOptions, out: Output): Promise<void> {
  const pkcs8 = await (await openKeyStore(options.dataDir)).exportKey(name);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  let pem: string | Buffer;
  if (options.passphraseFile === undefined) {
    pem = key.export({ format: 'pem', type: 'pkcs8' });
  } else {
    const passphrase = (await readFile(options.passphraseFile, 'utf8')).trimEnd();
    if (passphrase.length < 12)
      throw new CliError('CLI_KEY_INVALID', 'the export passphrase needs at least 12 characters');
    pem = key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase });
  }
  try {
    await writeFile(options.out, pem, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${options.out} exists or cannot be written`, { cause });
  }
  const result = { name, out: options.out, encrypted: options.passphraseFile !== undefined };
  if (options.json) printJson(out, result);
  else {
    out.write(
      `exported ${name} to ${options.out}${result.encrypted ? ' (encrypted)' : ' (PLAINTEXT: move it offline now)'}\n`,
    );
    out.write(`to take it offline: orbis keys remove ${name} --confirm ${name}\n`);
  }
}

export async function removeKeyCommand(
  name: string,
  options: KeyStoreOptions & { readonly confirm?: string },
  out: Output,
): Promise<void> {
  if (options.confirm !== name) {
    throw new CliError(
      'CLI_CONFIRMATION_REQUIRED',
      `removing a key cannot be undone: repeat its name with --confirm ${name}`,
    );
  }
  await (await openKeyStore(options.dataDir)).removeKey(name);
  if (options.json) printJson(out, { removed: name });
  else out.write(`removed ${name} from the KeyStore\n`);
}
