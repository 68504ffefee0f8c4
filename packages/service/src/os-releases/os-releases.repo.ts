import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ReferenceMeasurement } from '@orbis/verify';
import { isUniqueViolation, withDatabaseErrors } from '../db/database-errors.ts';
import type { Database } from '../db/schema.ts';
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

export async function insertOsRelease(db: Kysely<Database>, release: OsRelease): Promise<void> {
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

/** The registered boot stage with this image SHA-256, if any. */
export async function findOsMeasurement(
  db: Kysely<Database>,
  sha256: string,
): Promise<OsReleaseStage | undefined> {
  const row = await withDatabaseErrors(() =>
    db.selectFrom('os_releases').selectAll().where('sha256', '=', sha256).executeTakeFirst(),
  );
  if (row === undefined) return undefined;
  return {
    kind: row.kind as OsReleaseStage['kind'],
    componentId: row.component_id,
    version: row.version,
    securityVersion: row.security_version,
    signer: row.signer,
    sha256: row.sha256,
  };
}

/** The highest OS security version released: what "current" means in an attestation result. */
export async function latestOsSecurityVersion(db: Kysely<Database>): Promise<number> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('os_releases')
      .select((eb) => eb.fn.max('security_version').as('latest'))
      .where('kind', '=', 'os')
      .executeTakeFirst(),
  );
  return row?.latest ?? 0;
}

export async function listOsReleases(db: Kysely<Database>): Promise<OsRelease[]> {
  const rows = await withDatabaseErrors(() =>
    db.selectFrom('os_releases').selectAll().orderBy('registered_at').orderBy('kind').execute(),
  );
  const releases = new Map<string, { stages: OsReleaseStage[]; registeredAt: number }>();
  for (const row of rows) {
    const release = releases.get(row.release_version) ?? { stages: [], registeredAt: row.registered_at };
    release.stages.push({
      kind: row.kind as OsReleaseStage['kind'],
      componentId: row.component_id,
      version: row.version,
      securityVersion: row.security_version,
      signer: row.signer,
      sha256: row.sha256,
    });
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
