import { sql, type Kysely } from 'kysely';
import { parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import {
  AttestationError,
  parseTpmIdentityPublic,
  TpmStructureError,
  type TpmIdentityPublic,
} from '@orbis/verify';
import type { AttestationResultClass } from '@orbis/protocol';
import { withDatabaseErrors } from '../db/database-errors.ts';
import { preparedQuery } from '../db/prepared-query.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import type { OsFeed } from '../groups/groups.repo.ts';
import { listOsMeasurements, type OsReleaseStage } from '../os-releases/os-releases.repo.ts';
import type { Device } from '../registry/registry.repo.ts';

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

/** What attestation reads of the device's row: only the columns it decides on. */
export type AttestationDevice = Pick<
  Device,
  | 'deviceId'
  | 'identitySpki'
  | 'identityTpmPublic'
  | 'tenantId'
  | 'disabled'
  | 'quarantined'
  | 'lastBootcount'
  | 'lastBootseed'
  | 'lastNonceAt'
  | 'capabilityEpoch'
>;

/** Everything one attestation reads, from one query. */
export interface AttestationSubject {
  readonly device: AttestationDevice;
  /** Undefined while the device is unclaimed or in no group. */
  readonly group: SubjectGroup | undefined;
  /** The platform operator's minimum for the group's feed (0 and 0 if none is set). */
  readonly feed: { readonly minSecurityVersion: number; readonly minEffectiveFrom: number };
  /** os_reference: the revision of the OS releases and the highest OS security version. */
  readonly referenceRevision: number;
  readonly latestOsSecurityVersion: number;
}

const selectAttestationSubject = preparedQuery((db: Kysely<Database>, deviceId: string) =>
  db
    .selectFrom('devices as d')
    .leftJoin('device_groups as g', (join) =>
      join.onRef('g.tenant_id', '=', 'd.tenant_id').onRef('g.id', '=', 'd.group_id'),
    )
    .leftJoin('os_feeds as f', (join) => join.on(sql<boolean>`f.feed = g.os_feed`))
    .leftJoin('os_reference as r', (join) => join.on('r.id', '=', 1))
    .select([
      'd.device_id',
      'd.identity_spki',
      'd.identity_tpm_public',
      'd.tenant_id',
      'd.disabled',
      'd.quarantined',
      'd.last_bootcount',
      'd.last_bootseed',
      'd.last_nonce_at',
      'd.capability_epoch',
      'g.id as g_id',
      'g.product_id as g_product_id',
      'g.os_feed as g_os_feed',
      'g.min_os_security_version as g_min_os_security_version',
      'f.min_security_version as f_min_security_version',
      'f.min_effective_from as f_min_effective_from',
      'r.revision as r_revision',
      'r.latest_os_security_version as r_latest_os_security_version',
    ])
    .where('d.device_id', '=', deviceId),
);

/** The device (with its nonce high-water mark), its group and feed policy and the reference revision, in one query. */
export async function readAttestationSubject(
  db: Kysely<Database>,
  deviceId: string,
): Promise<AttestationSubject | undefined> {
  const [row] = await withDatabaseErrors(() => selectAttestationSubject(db, deviceId));
  if (row === undefined) return undefined;
  return {
    device: {
      deviceId: row.device_id,
      identitySpki: row.identity_spki,
      identityTpmPublic: row.identity_tpm_public,
      tenantId: row.tenant_id,
      disabled: row.disabled === 1,
      quarantined: row.quarantined === 1,
      lastBootcount: row.last_bootcount,
      lastBootseed: row.last_bootseed,
      lastNonceAt: row.last_nonce_at,
      capabilityEpoch: row.capability_epoch,
    },
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
  /** The nonce's issue time (ms): the device's nonce high-water mark moves to it (ADR 0009). */
  readonly nonceTime: number;
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
 * - nonce-replayed: the nonce, or a newer one of this device, was used before (here or on
 *   another replica); nothing written.
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
      const outcomes = await writeRecords(
        this.#db,
        batch.map((pending) => pending.record),
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

/**
 * What an admitted attestation changes in the device's row, if the row still allows it: the
 * state appraisal read still holds (same tenant, neither disabled nor quarantined) and the boot
 * is new, or the same boot again. A bootcount that goes backwards, or a known bootcount with
 * another seed, changes nothing of it. Evaluated on the row as it was before the update.
 */
const ADMITS = sql.raw(`(
  devices.tenant_id = v.column5
  and devices.disabled = 0
  and devices.quarantined = 0
  and (
    devices.last_bootcount is null
    or devices.last_bootcount < v.column2
    or (devices.last_bootcount = v.column2 and devices.last_bootseed = v.column3)
  )
)`);

/**
 * One group commit: a single UPDATE … FROM (VALUES …), which SQLite and PostgreSQL both run
 * (VALUES columns are column1… on both) and which is atomic without a transaction around it.
 * Records name distinct devices. For each device whose nonce is newer than its high-water mark
 * (ADR 0009) it spends the nonce (raises the mark) and, where ADMITS holds, moves the boot state
 * forward and records the certificate; RETURNING tells which rows moved and whose certificate
 * they now hold. A device whose nonce is not newer is not touched.
 */
async function writeRecords(
  db: Kysely<Database>,
  records: readonly AttestationRecord[],
): Promise<RecordOutcome[]> {
  const values = sql.join(
    records.map(
      ({ deviceId, bootcount, bootseed, at, tenantId, certificate, nonceTime }) =>
        sql`(${deviceId}, cast(${bootcount} as bigint), ${bootseed}, cast(${at} as bigint), ${tenantId}, ${certificate.serial}, ${certificate.resultClass}, cast(${certificate.notBefore} as bigint), cast(${certificate.notAfter} as bigint), cast(${nonceTime} as bigint))`,
    ),
  );
  const result = await withDatabaseErrors(() =>
    sql<{ device_id: string; certificate_serial: string | null }>`
      update devices
      set last_nonce_at = v.column10,
        last_bootcount = case when ${ADMITS} then v.column2 else devices.last_bootcount end,
        last_bootseed = case when ${ADMITS} then v.column3 else devices.last_bootseed end,
        last_attested_at = case when ${ADMITS} then v.column4 else devices.last_attested_at end,
        certificate_serial = case when ${ADMITS} then v.column6 else devices.certificate_serial end,
        certificate_result_class =
          case when ${ADMITS} then v.column7 else devices.certificate_result_class end,
        certificate_not_before =
          case when ${ADMITS} then v.column8 else devices.certificate_not_before end,
        certificate_not_after = case when ${ADMITS} then v.column9 else devices.certificate_not_after end
      from (values ${values}) as v
      where devices.device_id = v.column1
        and (devices.last_nonce_at is null or devices.last_nonce_at < v.column10)
      returning devices.device_id, devices.certificate_serial
    `.execute(db),
  );
  const moved = new Map(result.rows.map((row) => [row.device_id, row.certificate_serial]));
  return records.map((record) => {
    if (!moved.has(record.deviceId)) return 'nonce-replayed';
    // Serials are 16 random bytes: the row holds this record's certificate only if it was admitted.
    return moved.get(record.deviceId) === record.certificate.serial ? 'recorded' : 'device-changed';
  });
}
