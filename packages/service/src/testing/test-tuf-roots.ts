import { generateSoftwareSigner } from '@orbis/crypto';
import { createTufRoot, type TufRoots } from '../updates/tuf-roots.ts';

/** Test-only: an image repository's and a director's root.json, signed with throwaway keys. */
export async function createTestTufRoots(now: number): Promise<TufRoots> {
  const rootOf = () => {
    const key = () => generateSoftwareSigner().signer.publicKey;
    return createTufRoot(
      { root: generateSoftwareSigner().signer, targets: key(), snapshot: key(), timestamp: key() },
      now,
    );
  };
  return { imageRepository: await rootOf(), director: await rootOf() };
}
