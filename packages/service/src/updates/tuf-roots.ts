import type { Kysely } from 'kysely';
import { Metadata, MetadataKind, Root } from '@tufjs/models';
import type { KeyStore, KeyStoreEntry } from '@orbis/ca';
import type { PublicKey, Signer } from '@orbis/crypto';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { getSetting, insertSettingIfAbsent } from '../db/settings.repo.ts';
import { ServiceError } from '../errors.ts';
import { DAY_MS } from '../pki/anchor-series.ts';
import { getOrCreateSigner } from '../pki/pki-keys.ts';
import { signTufMetadata, spkiKeyIdOf, tufExpiry, tufKeyOf, TUF_SPEC_VERSION } from './tuf-metadata.ts';

/**
 * The two TUF roots devices get at manufacture (ARCHITECTURE.md, "Security renewal"): the image
 * repository's and the director's, each version 1 with its own four top-level keys (threshold
 * 1). Created once, at the first start, and kept as signed JSON text in the settings table, so
 * every start serves the same bytes and no start signs again: a root key taken offline after
 * that (`orbis keys export` and `remove`) is never needed to serve the root, only to rotate it.
 */

export type TufRepository = 'imageRepository' | 'director';
export type TufTopLevelRole = 'root' | 'targets' | 'snapshot' | 'timestamp';

/**
 * KeyStore names. The roots and the image repository's top-level targets are offline keys
 * (`OFFLINE_KEY_NAMES` in packages/ca, so `orbis keys list` marks them); snapshot, timestamp
 * and the director's targets sign online.
 */
export const TUF_KEY_NAMES: Readonly<Record<TufRepository, Readonly<Record<TufTopLevelRole, string>>>> =
  Object.freeze({
    imageRepository: Object.freeze({
      root: 'image-repo-root',
      targets: 'image-repo-targets',
      snapshot: 'image-repo-snapshot',
      timestamp: 'image-repo-timestamp',
    }),
    director: Object.freeze({
      root: 'director-root',
      targets: 'director-targets',
      snapshot: 'director-snapshot',
      timestamp: 'director-timestamp',
    }),
  });

const repositoryName = (repository: TufRepository) =>
  repository === 'director' ? 'director' : 'image repository';
const ROLES: readonly TufTopLevelRole[] = ['root', 'targets', 'snapshot', 'timestamp'];

/**
 * How long a root is valid: a year, the root lifetime TUF's reference implementation has long
 * defaulted to. A root is never extended in place; the renewal work signs version N+1 with the
 * root key (a ceremony, the key being offline) before this runs out, and devices follow the
 * chain from the version they were made with.
 */
export const TUF_ROOT_LIFETIME_DAYS = 365;

/** Settings keys of the signed root.json texts. */
const SETTING_KEYS: Readonly<Record<TufRepository, string>> = {
  imageRepository: 'updates.tuf-root.image-repository',
  director: 'updates.tuf-root.director',
};

/** The signed root.json of each repository, as text: what devices get, byte for byte. */
export interface TufRoots {
  readonly imageRepository: string;
  readonly director: string;
}

export interface TufRootKeys {
  readonly root: Signer;
  readonly targets: PublicKey;
  readonly snapshot: PublicKey;
  readonly timestamp: PublicKey;
}

/**
 * A root.json, version 1: each top-level role trusts its one key (threshold 1), signed by the
 * root key. Pure apart from the signing; `now` sets the expiry.
 */
export async function createTufRoot(keys: TufRootKeys, now: number): Promise<string> {
  const publicKeys: Record<TufTopLevelRole, PublicKey> = {
    root: keys.root.publicKey,
    targets: keys.targets,
    snapshot: keys.snapshot,
    timestamp: keys.timestamp,
  };
  const root = new Root({
    version: 1,
    specVersion: TUF_SPEC_VERSION,
    expires: tufExpiry(now + TUF_ROOT_LIFETIME_DAYS * DAY_MS),
    consistentSnapshot: true,
    // Without `roles`, the models start each top-level role with no key and threshold 1.
  });
  for (const role of ROLES) root.addKey(tufKeyOf(publicKeys[role]), role);
  const metadata = new Metadata(root);
  await signTufMetadata(metadata, [keys.root]);
  return JSON.stringify(metadata.toJSON());
}

/**
 * A stored root read back: it must still be a root signed by its own root role, or the service
 * refuses to start rather than hand devices something they would refuse (UPDATES_ROOT_INVALID).
 */
export function readStoredTufRoot(repository: TufRepository, text: string): Metadata<Root> {
  try {
    const metadata = Metadata.fromJSON(MetadataKind.Root, JSON.parse(text) as Record<string, never>);
    metadata.verifyDelegate('root', metadata);
    return metadata;
  } catch (cause) {
    throw new ServiceError(
      'UPDATES_ROOT_INVALID',
      `the stored TUF root of the ${repositoryName(repository)} does not read back as a root signed by its own keys`,
      { cause },
    );
  }
}

/** New keys (or those a crash left behind) and a signed root, stored with its audit event. */
async function createAndStore(
  deps: TufRootsDeps,
  repository: TufRepository,
  now: number,
): Promise<string | undefined> {
  const names = TUF_KEY_NAMES[repository];
  const publicKeyOf = async (role: TufTopLevelRole) =>
    (await getOrCreateSigner(deps.keyStore, names[role])).publicKey;
  const text = await createTufRoot(
    {
      root: await getOrCreateSigner(deps.keyStore, names.root),
      targets: await publicKeyOf('targets'),
      snapshot: await publicKeyOf('snapshot'),
      timestamp: await publicKeyOf('timestamp'),
    },
    now,
  );
  const signed = readStoredTufRoot(repository, text).signed;
  const stored = await withTransaction(deps.db, async (trx) => {
    if (!(await insertSettingIfAbsent(trx, SETTING_KEYS[repository], text))) return false;
    await appendAuditEvent(trx, {
      tenantId: PLATFORM_AUDIT_CHAIN,
      at: now,
      actor: 'system',
      action: 'updates.tuf-root.create',
      target: `tuf-root:${repository}`,
      source: 'updates',
      details: {
        version: signed.version,
        expires: signed.expires,
        keyIds: Object.fromEntries(ROLES.map((role) => [role, signed.roles[role]?.keyIDs ?? []])),
      },
    });
    return true;
  });
  // Another replica stored its root first: serve that one.
  return stored ? text : undefined;
}

export interface TufRootsDeps {
  readonly db: Kysely<Database>;
  readonly keyStore: KeyStore;
}

export interface EnsureTufRootsResult {
  readonly roots: TufRoots;
  /** The repositories whose root this call created (first start). */
  readonly created: readonly TufRepository[];
}

/** The repository's stored root, or a new one on first start (then `created`). */
async function loadOrCreate(
  deps: TufRootsDeps,
  repository: TufRepository,
  now: number,
): Promise<{ text: string; created: boolean }> {
  const stored = await getSetting(deps.db, SETTING_KEYS[repository]);
  if (stored !== undefined) return { text: stored, created: false };
  const text = await createAndStore(deps, repository, now);
  if (text !== undefined) return { text, created: true };
  const theirs = await getSetting(deps.db, SETTING_KEYS[repository]);
  if (theirs === undefined) {
    throw new ServiceError(
      'UPDATES_ROOT_INVALID',
      `the TUF root of the ${repositoryName(repository)} was not stored`,
    );
  }
  return { text: theirs, created: false };
}

/**
 * A root is self-signed, so anyone can make one that verifies: what ties the stored root to this
 * service is that each role's key is the KeyStore's key of that name. The KeyStore remembers the
 * key ID of a key taken offline, so this holds after `orbis keys remove` too; a name the KeyStore
 * knows nothing of (a key kept elsewhere) is not compared.
 */
function assertKeysMatch(
  repository: TufRepository,
  root: Metadata<Root>,
  entries: readonly KeyStoreEntry[],
): void {
  for (const role of ROLES) {
    const name = TUF_KEY_NAMES[repository][role];
    const expected = entries.find((entry) => entry.name === name)?.keyId;
    if (expected === undefined) continue;
    const keyIds = root.signed.roles[role]?.keyIDs ?? [];
    const named = keyIds.map((keyId) => root.signed.keys[keyId]?.keyVal['public'] ?? '');
    if (!named.some((pem) => spkiKeyIdOf(pem) === expected)) {
      throw new ServiceError(
        'UPDATES_ROOT_INVALID',
        `the stored TUF root of the ${repositoryName(repository)} does not name the KeyStore's ${name} for its ${role} role (a root replaced in the database?)`,
      );
    }
  }
}

/**
 * The stored roots, or on first start new ones: keys from the KeyStore (created if absent),
 * root metadata signed and stored, one audit event each. A stored root is read back and
 * checked against the KeyStore, never re-signed, so serving it needs no key.
 */
export async function ensureTufRoots(deps: TufRootsDeps, now: number): Promise<EnsureTufRootsResult> {
  const image = await loadOrCreate(deps, 'imageRepository', now);
  const director = await loadOrCreate(deps, 'director', now);
  const entries = await deps.keyStore.list();
  assertKeysMatch('imageRepository', readStoredTufRoot('imageRepository', image.text), entries);
  assertKeysMatch('director', readStoredTufRoot('director', director.text), entries);
  return {
    roots: Object.freeze({ imageRepository: image.text, director: director.text }),
    created: [
      ...(image.created ? ['imageRepository' as const] : []),
      ...(director.created ? ['director' as const] : []),
    ],
  };
}
