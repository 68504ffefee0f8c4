import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyTufRoot, verifyTufRootPair } from '@orbis/device';
import { OrbisError } from '@orbis/protocol';
import { createApiClient, type ApiConnection } from '../api-client.ts';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/** `orbis updates roots`: the TUF roots `orbis device manufacture` writes into devices. */
export interface RootsOptions extends ApiConnection {
  readonly out: string;
  readonly json: boolean;
}

/** The files written into `--out`, named as `orbis device manufacture` takes them. */
export const ROOT_FILES = Object.freeze({
  imageRepository: 'image-repository-root.json',
  director: 'director-root.json',
} as const);

type Repository = keyof typeof ROOT_FILES;
const REPOSITORIES: readonly Repository[] = ['imageRepository', 'director'];

function invalid(reason: string, cause?: unknown): OrbisError {
  return new OrbisError('UPDATES_ROOT_INVALID', `the service's answer is not the TUF roots: ${reason}`, {
    cause,
  });
}

/**
 * Each root as a device will check it at manufacture (packages/device, verifyTufRoot), before
 * anything is written: a root the factory could not use is refused here, where it came from.
 */
function checkRoots(body: unknown, now: number): Record<Repository, string> {
  const roots = body as Partial<Record<Repository, unknown>> | null;
  const texts = Object.fromEntries(
    REPOSITORIES.map((repository) => {
      const root = roots?.[repository];
      if (typeof root !== 'object' || root === null) throw invalid(`no ${repository} root`);
      return [repository, `${JSON.stringify(root, null, 2)}\n`];
    }),
  ) as Record<Repository, string>;
  try {
    verifyTufRootPair({ imageRepositoryRoot: texts.imageRepository, directorRoot: texts.director }, now);
  } catch (cause) {
    throw invalid(cause instanceof Error ? cause.message : 'a root does not verify', cause);
  }
  return texts;
}

/** Writes each file new (never over one); on a failure, removes what this call wrote. */
async function writeRoots(directory: string, texts: Record<Repository, string>): Promise<void> {
  await mkdir(directory, { recursive: true });
  const written: string[] = [];
  try {
    for (const repository of REPOSITORIES) {
      const path = join(directory, ROOT_FILES[repository]);
      await writeFile(path, texts[repository], { flag: 'wx', mode: 0o644 });
      written.push(path);
    }
  } catch (cause) {
    await Promise.all(written.map((path) => rm(path, { force: true })));
    throw new CliError('CLI_FILE_EXISTS', `${directory} already holds TUF roots, or cannot be written`, {
      cause,
    });
  }
}

export async function rootsCommand(options: RootsOptions, out: Output): Promise<void> {
  const client = await createApiClient(options);
  const now = Date.now();
  const texts = checkRoots(await client.call<unknown>('GET', '/api/v1/updates/roots'), now);
  await writeRoots(options.out, texts);
  const summary = REPOSITORIES.map((repository) => {
    const { signed } = verifyTufRoot(texts[repository], { now, name: repository });
    return {
      repository,
      file: join(options.out, ROOT_FILES[repository]),
      version: signed.version,
      expires: signed.expires,
      rootKeyIds: signed.roles['root']?.keyIDs ?? [],
    };
  });
  if (options.json) {
    printJson(out, { roots: summary });
    return;
  }
  out.write(
    formatTable(
      ['repository', 'version', 'expires', 'root key IDs', 'file'],
      summary.map((root) => [
        root.repository === 'director' ? 'director' : 'image repository',
        String(root.version),
        root.expires,
        root.rootKeyIds.join(' '),
        root.file,
      ]),
    ),
  );
}
