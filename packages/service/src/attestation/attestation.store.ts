import { sql, type Kysely } from 'kysely';
import { parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import {
  AttestationError,
  parseTpmIdentityPublic,
  TpmStructureError,
  type TpmIdentityPublic,
} from '@orbis/verify';
import { NONCE_LIFETIME_SECONDS, type AttestationResultClass } from '@orbis/protocol';
import { withTransaction } from '../db/backend.ts';
import { withDatabaseErrors } from '../db/database-errors.ts';
import { preparedQuery } from '../db/prepared-query.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import type { OsFeed } from '../groups/groups.repo.ts';
import { listOsMeasurements, type OsReleaseStage } from '../os-releases/os-releases.repo.ts';
import { toDevice, type Device } from '../registry/registry.repo.ts';

/*
 * Attestation's storage, shaped for a fleet attesting at once (docs/benchmarks.md,
 * "Attestation"): one read per attestation for everything appraisal needs, the reference
 * measurements in memory behind a revision the database raises, identity keys parsed once,
 * and the writes of many attestations committed together (group commit), each attestation's
 * single-use nonce, forward-only boot state and certificate record still atomic with its own
 * outcome.
 */

/** The device's group, as appraisal needs it. */
export interface SubjectGroup {
  readonly id: string;
  readonly productId: string;
  readonly osFeed: OsFeed;
  readonly minOsSecurityVersion: number | null;
}

/** Everything one attestation reads, from one query. */
export interface AttestationSubject {
  readonly device: Device;
  /** Undefined while the device is unclaimed or in no group. */
  readonly group: SubjectGroup | undefined;
  /** The platform operator's minimum for the group's feed (0 and 0 if none is set). */
  readonly feed: { readonly minSecurityVersion: number; readonly minEffectiveFrom: number };
  /** os_reference: the revision of the OS releases and the highest OS security version. */
  readonly referenceRevision: number;
  readonly latestOsSecurityVersion: number;
  /** Whether this nonce was used before (the unique insert at commit still decides races). */
  readonly nonceUsed: boolean;
}

const selectAttestationSubject = preparedQuery((db: Kysely<Database>, deviceId: string, nonce: string) =>
  db
    .selectFrom('devices as d')
    .leftJoin('device_groups as g', (join) =>
      join.onRef('g.tenant_id', '=', 'd.tenant_id').onRef('g.id', '=', 'd.group_id'),
    )
    .leftJoin('os_feeds as f', (join) => join.on(sql<boolean>`f.feed = g.os_feed`))
    .leftJoin('os_reference as r', (join) => join.on('r.id', '=', 1))
    .selectAll('d')
    .select([
      'g.id as g_id',
      'g.product_id as g_product_id',
      'g.os_feed as g_os_feed',
      'g.min_os_security_version as g_min_os_security_version',
      'f.min_security_version as f_min_security_version',
      'f.min_effective_from as f_min_effective_from',
      'r.revision as r_revision',
      'r.latest_os_security_version as r_latest_os_security_version',
    ])
    .select((eb) =>
      eb.exists(eb.selectFrom('nonces_used').select('nonce').where('nonce', '=', nonce)).as('nonce_used'),
    )
    .where('d.device_id', '=', deviceId),
);

/** The device, its group and feed policy, the reference revision and the nonce's use, in one query. */
export async function readAttestationSubject(
  db: Kysely<Database>,
  deviceId: string,
  nonce: string,
): Promise<AttestationSubject | undefined> {
  const [row] = await withDatabaseErrors(() => selectAttestationSubject(db, deviceId, nonce));
  if (row === undefined) return undefined;
  return {
    device: toDevice(row),
    group:
      row.g_id === null || row.g_product_id === null || row.g_os_feed === null
        ? undefined
        : {
            id: row.g_id,
            productId: row.g_product_id,
            osFeed: row.g_os_feed as OsFeed,
            minOsSecurityVersion: row.g_min_os_security_version,
          },
    feed: {
      minSecurityVersion: row.f_min_security_version ?? 0,
      minEffectiveFrom: row.f_min_effective_from ?? 0,
    },
    referenceRevision: row.r_revision ?? 0,
    latestOsSecurityVersion: row.r_latest_os_security_version ?? 0,
    // SQLite answers EXISTS with 0 or 1, PostgreSQL with a boolean.
    nonceUsed: (row.nonce_used as unknown) === true || (row.nonce_used as unknown) === 1,
  };
}

/**
 * The registered OS measurements, in memory. OS releases are only ever added, and every
 * addition raises os_reference.revision in its own transaction, so a copy is current for any
 * attestation whose read saw a revision no newer than the copy's; a newer one reloads it
 * (once, however many attestations ask at the same time).
 */
export class ReferenceMeasurements {
  #revision = -1;
  #byDigest = new Map<string, OsReleaseStage>();
  #loading: Promise<void> | undefined;

  /** The stage registered with this image SHA-256, as of at least `revision`. */
  async lookup(
    db: Kysely<Database>,
    revision: number,
  ): Promise<(sha256: string) => OsReleaseStage | undefined> {
    while (this.#revision < revision) {
      this.#loading ??= this.#reload(db).finally(() => {
        this.#loading = undefined;
      });
      await this.#loading;
    }
    const byDigest = this.#byDigest;
    return (sha256) => byDigest.get(sha256);
  }

  async #reload(db: Kysely<Database>): Promise<void> {
    // The revision first: the stages read after it are a superset of what it names, since
    // releases are never changed or removed.
    const { revision, stages } = await listOsMeasurements(db);
    this.#byDigest = new Map(stages.map((stage) => [stage.sha256, stage]));
    this.#revision = revision;
  }
}

/** Most identity keys kept parsed; a fleet larger than this parses the rest on each attestation. */
export const IDENTITY_KEY_CACHE_SIZE = 65_536;

/**
 * Values parsed from a device's registered bytes, kept for the most recently used devices.
 * Keyed by device ID, and a hit must also match the registered bytes exactly, so a cached value
 * can never vouch for other bytes registered under the same ID.
 */
class ParsedPerDevice<T> {
  readonly #entries = new Map<string, { readonly bytes: Uint8Array; readonly value: T }>();
  readonly #capacity: number;
  readonly #parse: (bytes: Uint8Array) => T;

  constructor(capacity: number, parse: (bytes: Uint8Array) => T) {
    this.#capacity = capacity;
    this.#parse = parse;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(deviceId: string, bytes: Uint8Array): T {
    const cached = this.#entries.get(deviceId);
    if (cached !== undefined && Buffer.compare(cached.bytes, bytes) === 0) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.#entries.delete(deviceId);
      this.#entries.set(deviceId, cached);
      return cached.value;
    }
    const value = this.#parse(bytes);
    this.#entries.set(deviceId, { bytes: Uint8Array.from(bytes), value });
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return value;
  }
}

/**
 * The TPM public area the registry stored. The registry checked it on import, so a failure here
 * means the stored bytes changed since: refused like a key that cannot be trusted, never a 500.
 */
function parseRegisteredTpmPublic(bytes: Uint8Array): TpmIdentityPublic {
  try {
    return parseTpmIdentityPublic(bytes);
  } catch (cause) {
    if (!(cause instanceof TpmStructureError)) throw cause;
    throw new AttestationError(
      'ATTESTATION_TPM_KEY_NOT_RESTRICTED',
      'the TPM public area registered for this device does not parse',
      { cause },
    );
  }
}

/**
 * Identity keys parsed once (parsing a P-256 SPKI costs OpenSSL a point decoding and an
 * on-curve check: a third of a signature verification), and for TPM-resident keys their
 * TPM public area, parsed and named once.
 */
export class IdentityKeyCache {
  readonly #keys: ParsedPerDevice<PublicKey>;
  readonly #tpmAreas: ParsedPerDevice<TpmIdentityPublic>;

  constructor(capacity = IDENTITY_KEY_CACHE_SIZE) {
    this.#keys = new ParsedPerDevice(capacity, parsePublicKeySpki);
    this.#tpmAreas = new ParsedPerDevice(capacity, parseRegisteredTpmPublic);
  }

  get size(): number {
    return this.#keys.size;
  }

  /** The parsed key for `spki`; throws what parsePublicKeySpki throws. */
  get(deviceId: string, spki: Uint8Array): PublicKey {
    return this.#keys.get(deviceId, spki);
  }

  /** The parsed TPM public area registered for a device; throws what parseTpmIdentityPublic throws. */
  tpmIdentity(deviceId: string, tpmPublic: Uint8Array): TpmIdentityPublic {
    return this.#tpmAreas.get(deviceId, tpmPublic);
  }
}

/** What an admitted attestation writes: its nonce's use, and the device's boot state and certificate. */
export interface AttestationRecord {
  readonly nonce: string;
  readonly deviceId: string;
  readonly tenantId: string;
  readonly bootcount: number;
  readonly bootseed: string;
  readonly at: number;
  readonly certificate: {
    readonly serial: string;
    readonly resultClass: AttestationResultClass;
    readonly notBefore: number;
    readonly notAfter: number;
  };
}

/**
 * - recorded: the nonce's use, the boot state and the certificate committed; it may be handed out.
 * - nonce-replayed: the nonce was used before (here or on another replica); nothing written.
 * - device-changed: the nonce is now used, but the device's row no longer allows this boot
 *   state (a concurrent attestation moved it on or used this bootcount with another seed, or
 *   the device was disabled, quarantined or moved meanwhile); no certificate is recorded.
 */
export type RecordOutcome = 'recorded' | 'nonce-replayed' | 'device-changed';

/** Most attestations one group commit writes: keeps each statement under MAX_BOUND_PARAMETERS. */
export const MAX_RECORDS_PER_COMMIT = 100;

interface Pending {
  readonly record: AttestationRecord;
  resolve(outcome: RecordOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for attestation: records that arrive while a commit is being written go into
 * the next one, so a commit's cost (an fsync on SQLite, a round trip and WAL flush on
 * PostgreSQL) is shared by every attestation in flight. A record's promise settles only after
 * its transaction commits. One commit is in progress at a time; a batch holds at most one
 * record per device, so a device's attestations apply in the order they arrived.
 */
export class AttestationRecorder {
  readonly #db: Kysely<Database>;
  readonly #pending: Pending[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;
  #closed = false;
  /** Commits written and records in them, for the benchmark and the tests. */
  commits = 0;
  records = 0;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  record(record: AttestationRecord): Promise<RecordOutcome> {
    if (this.#closed) {
      return Promise.reject(new ServiceError('DB_UNAVAILABLE', 'the service is shutting down'));
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, resolve, reject });
      this.#schedule();
    });
  }

  /** Writes what is pending, then refuses new records. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running !== undefined || this.#pending.length > 0) {
      await (this.#running ?? this.#flush());
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#running !== undefined) return;
    this.#scheduled = true;
    // setImmediate lets every attestation that is ready in this turn of the event loop join.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#running === undefined) void this.#flush();
    });
  }

  #flush(): Promise<void> {
    const batch = this.#takeBatch();
    this.#running = this.#commit(batch).finally(() => {
      this.#running = undefined;
      if (this.#pending.length > 0) this.#schedule();
    });
    return this.#running;
  }

  #takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const devices = new Set<string>();
    const rest: Pending[] = [];
    for (const pending of this.#pending) {
      if (batch.length < MAX_RECORDS_PER_COMMIT && !devices.has(pending.record.deviceId)) {
        devices.add(pending.record.deviceId);
        batch.push(pending);
      } else {
        rest.push(pending);
      }
    }
    this.#pending.splice(0, this.#pending.length, ...rest);
    return batch;
  }

  async #commit(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const outcomes = await withTransaction(this.#db, (trx) =>
        writeRecords(
          trx,
          batch.map((pending) => pending.record),
        ),
      );
      this.commits += 1;
      this.records += batch.length;
      batch.forEach((pending, index) => {
        pending.resolve(outcomes[index] as RecordOutcome);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}

/** The two statements of one group commit, in its transaction. Records name distinct devices. */
async function writeRecords(
  db: Kysely<Database>,
  records: readonly AttestationRecord[],
): Promise<RecordOutcome[]> {
  const fresh = new Set(
    (
      await withDatabaseErrors(() =>
        db
          .insertInto('nonces_used')
          .values(
            records.map((record) => ({
              nonce: record.nonce,
              device_id: record.deviceId,
              used_at: record.at,
            })),
          )
          .onConflict((conflict) => conflict.column('nonce').doNothing())
          .returning('nonce')
          .execute(),
      )
    ).map((row) => row.nonce),
  );
  const admitted = records.filter((record) => fresh.has(record.nonce));
  const advanced = new Set(admitted.length === 0 ? [] : await advanceBootState(db, admitted));
  return records.map((record) =>
    !fresh.has(record.nonce)
      ? 'nonce-replayed'
      : advanced.has(record.deviceId)
        ? 'recorded'
        : 'device-changed',
  );
}

/**
 * Moves each device's boot state forward and records its new certificate, in one
 * UPDATE … FROM (VALUES …), which SQLite and PostgreSQL both run (VALUES columns are column1…
 * on both). A row changes only if the state appraisal read still holds (same tenant, neither
 * disabled nor quarantined) and the boot is new, or the same boot again: a bootcount that goes
 * backwards, or a known bootcount with another seed, changes nothing. Returns the devices that
 * moved.
 */
async function advanceBootState(
  db: Kysely<Database>,
  records: readonly AttestationRecord[],
): Promise<string[]> {
  const values = sql.join(
    records.map(
      ({ deviceId, bootcount, bootseed, at, tenantId, certificate }) =>
        sql`(${deviceId}, cast(${bootcount} as bigint), ${bootseed}, cast(${at} as bigint), ${tenantId}, ${certificate.serial}, ${certificate.resultClass}, cast(${certificate.notBefore} as bigint), cast(${certificate.notAfter} as bigint))`,
    ),
  );
  const result = await withDatabaseErrors(() =>
    sql<{ device_id: string }>`
      update devices
      set last_bootcount = v.column2, last_bootseed = v.column3, last_attested_at = v.column4,
        certificate_serial = v.column6, certificate_result_class = v.column7,
        certificate_not_before = v.column8, certificate_not_after = v.column9
      from (values ${values}) as v
      where devices.device_id = v.column1
        and devices.tenant_id = v.column5
        and devices.disabled = 0
        and devices.quarantined = 0
        and (
          devices.last_bootcount is null
          or devices.last_bootcount < v.column2
          or (devices.last_bootcount = v.column2 and devices.last_bootseed = v.column3)
        )
      returning devices.device_id
    `.execute(db),
  );
  return result.rows.map((row) => row.device_id);
}

/**
 * How long a used nonce's record is kept, in ms: its lifetime plus ten minutes for clocks of
 * replicas that disagree. By then every replica refuses the nonce as expired
 * (ATTESTATION_NONCE_EXPIRED), so the record has nothing left to prevent.
 */
export const USED_NONCE_RETENTION_MS = (NONCE_LIFETIME_SECONDS + 10 * 60) * 1000;
/** Rows one pruning statement deletes, so a large backlog never holds the write lock for long. */
export const NONCE_PRUNE_BATCH = 5000;

/** Deletes the records of nonces used before `now - USED_NONCE_RETENTION_MS`; returns how many. */
export async function pruneUsedNonces(db: Kysely<Database>, now: number): Promise<number> {
  const before = now - USED_NONCE_RETENTION_MS;
  let deleted = 0;
  for (;;) {
    const result = await withDatabaseErrors(() =>
      db
        .deleteFrom('nonces_used')
        .where('nonce', 'in', (eb) =>
          eb.selectFrom('nonces_used').select('nonce').where('used_at', '<', before).limit(NONCE_PRUNE_BATCH),
        )
        .executeTakeFirst(),
    );
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < NONCE_PRUNE_BATCH) return deleted;
    // Let attestations waiting for the write lock in between.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
