import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { withTransaction } from '../db/backend.ts';
import type { ReferenceMeasurement } from '@orbis/verify';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import type { Database, OsReleasesTable } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import type { OsFeed } from '../groups/groups.repo.ts';

/**
 * OS releases: the platform operator's reference values for attestation. A release lists one
 * measurement per boot stage; each measurement is an image's SHA-256 with what it is.
 */
export interface OsReleaseStage extends ReferenceMeasurement {
  readonly sha256: string;
}

export interface OsRelease {
  readonly version: string;
  readonly stages: readonly OsReleaseStage[];
  readonly registeredAt: number;
}

export interface FeedPolicy {
  readonly feed: OsFeed;
  readonly minSecurityVersion: number;
  /** The minimum applies from this time (ms); until then devices below it are in grace. */
  readonly minEffectiveFrom: number;
}

/**
 * Registers a release and raises the reference revision in the same transaction, so every
 * replica's cached measurements (ReferenceMeasurements) reload before their next use.
 */
export async function insertOsRelease(db: Kysely<Database>, release: OsRelease): Promise<void> {
  await withTransaction(db, async (trx) => {
    await insertStages(trx, release);
    const latest = Math.max(
      0,
      ...release.stages.filter((stage) => stage.kind === 'os').map((stage) => stage.securityVersion),
    );
    await withDatabaseErrors(() =>
      trx
        .updateTable('os_reference')
        .set((eb) => ({
          revision: eb('revision', '+', 1),
          latest_os_security_version: sql<number>`case when latest_os_security_version < ${latest} then ${latest} else latest_os_security_version end`,
        }))
        .where('id', '=', 1)
        .execute(),
    );
  });
}

async function insertStages(db: Kysely<Database>, release: OsRelease): Promise<void> {
  await withDatabaseErrors(
    () =>
      db
        .insertInto('os_releases')
        .values(
          release.stages.map((stage) => ({
            id: randomUUID(),
            component_id: stage.componentId,
            version: stage.version,
            security_version: stage.securityVersion,
            sha256: stage.sha256,
            signer: stage.signer,
            kind: stage.kind,
            release_version: release.version,
            registered_at: release.registeredAt,
          })),
        )
        .execute(),
    (failure) =>
      isUniqueViolation(failure, 'os_releases', ['sha256'])
        ? new ServiceError('OS_RELEASE_EXISTS', 'a stage of this release is already registered')
        : undefined,
  );
}

function toStage(row: Selectable<OsReleasesTable>): OsReleaseStage {
  return {
    kind: row.kind as OsReleaseStage['kind'],
    componentId: row.component_id,
    version: row.version,
    securityVersion: row.security_version,
    signer: row.signer,
    sha256: row.sha256,
  };
}

/** os_reference: the OS releases' revision and the highest OS security version released. */
export async function readOsReference(
  db: Kysely<Database>,
): Promise<{ revision: number; latestOsSecurityVersion: number }> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('os_reference')
      .select(['revision', 'latest_os_security_version'])
      .where('id', '=', 1)
      .executeTakeFirst(),
  );
  return { revision: row?.revision ?? 0, latestOsSecurityVersion: row?.latest_os_security_version ?? 0 };
}

/**
 * Every registered stage, with the revision read before them: the stages are at least as new
 * as the revision says (releases are only ever added).
 */
export async function listOsMeasurements(
  db: Kysely<Database>,
): Promise<{ revision: number; stages: OsReleaseStage[] }> {
  const { revision } = await readOsReference(db);
  const rows = await withDatabaseErrors(() => db.selectFrom('os_releases').selectAll().execute());
  return { revision, stages: rows.map(toStage) };
}

/** The highest OS security version released: what "current" means in an attestation result. */
export async function latestOsSecurityVersion(db: Kysely<Database>): Promise<number> {
  return (await readOsReference(db)).latestOsSecurityVersion;
}

export async function listOsReleases(db: Kysely<Database>): Promise<OsRelease[]> {
  const rows = await withDatabaseErrors(() =>
    db.selectFrom('os_releases').selectAll().orderBy('registered_at').orderBy('kind').execute(),
  );
  const releases = new Map<string, { stages: OsReleaseStage[]; registeredAt: number }>();
  for (const row of rows) {
    const release = releases.get(row.release_version) ?? { stages: [], registeredAt: row.registered_at };
    release.stages.push(toStage(row));
    releases.set(row.release_version, release);
  }
  return [...releases].map(([version, release]) => ({ version, ...release }));
}

export async function getFeedPolicy(db: Kysely<Database>, feed: OsFeed): Promise<FeedPolicy> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('os_feeds').selectAll().where('feed', '=', feed).executeTakeFirst(),
  );
  return {
    feed,
    minSecurityVersion: row?.min_security_version ?? 0,
    minEffectiveFrom: row?.min_effective_from ?? 0,
  };
}

export async function setFeedPolicy(db: Kysely<Database>, policy: FeedPolicy, now: number): Promise<void> {
  await withDatabaseErrors(() =>
    db
      .insertInto('os_feeds')
      .values({
        feed: policy.feed,
        min_security_version: policy.minSecurityVersion,
        min_effective_from: policy.minEffectiveFrom,
        updated_at: now,
      })
      .onConflict((conflict) =>
        conflict.column('feed').doUpdateSet({
          min_security_version: policy.minSecurityVersion,
          min_effective_from: policy.minEffectiveFrom,
          updated_at: now,
        }),
      )
      .execute(),
  );
}
