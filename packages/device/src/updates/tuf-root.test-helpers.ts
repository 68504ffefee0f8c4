import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { Key, Metadata, Root, Signature } from '@tufjs/models';

/**
 * Test-only: TUF roots signed with throwaway keys, as the service makes them (ECDSA P-256,
 * the SPKI in PEM, threshold 1), signed through the models' own synchronous `Metadata.sign`.
 */
export const TEST_TUF_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
const DAY_MS = 86_400_000;

export interface TestTufKey {
  readonly key: Key;
  /** A signer for `Metadata.sign`: DER ECDSA over the bytes, hex. */
  readonly sign: (data: Buffer) => Signature;
}

export function createTestTufKey(): TestTufKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // Any unique ID verifies; the service computes TUF's own (updates/tuf-metadata.ts).
  const keyID = createHash('sha256').update(pem).digest('hex');
  return {
    key: new Key({ keyID, keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyVal: { public: pem } }),
    sign: (data) => new Signature({ keyID, sig: sign('sha256', data, privateKey).toString('hex') }),
  };
}

export const tufExpires = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export interface TestTufRootOptions {
  /** Default: a year after `now`. */
  readonly expires?: number;
  readonly version?: number;
  readonly threshold?: number;
  /** Signs with these keys instead of the root key. */
  readonly signWith?: readonly TestTufKey[];
}

export interface TestTufRoot {
  readonly text: string;
  readonly keys: Readonly<Record<(typeof TEST_TUF_ROLES)[number], TestTufKey>>;
}

/** A root.json signed by its root key, each top-level role with a key of its own. */
export function createTestTufRoot(now: number, options: TestTufRootOptions = {}): TestTufRoot {
  const keys = Object.fromEntries(
    TEST_TUF_ROLES.map((role) => [role, createTestTufKey()]),
  ) as TestTufRoot['keys'];
  const root = new Root({
    version: options.version ?? 1,
    specVersion: '1.0.31',
    expires: tufExpires(options.expires ?? now + 365 * DAY_MS),
    consistentSnapshot: true,
  });
  for (const role of TEST_TUF_ROLES) {
    root.addKey(keys[role].key, role);
    if (options.threshold !== undefined)
      (root.roles[role] as { threshold: number }).threshold = options.threshold;
  }
  const metadata = new Metadata(root);
  for (const key of options.signWith ?? [keys.root]) metadata.sign(key.sign);
  return { text: JSON.stringify(metadata.toJSON()), keys };
}

/** The two roots of a device, valid at `now`, with keys of their own. */
export function createTestTufRoots(now: number): { imageRepositoryRoot: string; directorRoot: string } {
  return { imageRepositoryRoot: createTestTufRoot(now).text, directorRoot: createTestTufRoot(now).text };
}
