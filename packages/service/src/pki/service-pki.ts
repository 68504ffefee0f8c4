import { encodePem } from '@orbis/crypto';
import type { Kysely } from 'kysely';
import { createDeviceCertificateIssuer, type DeviceCertificateIssuer, type KeyStore } from '@orbis/ca';
import type { Clock, Random } from '@orbis/crypto';
import { TENANT_CA_ROTATION_LEAD_DAYS, type ErrorCode } from '@orbis/protocol';
import type { ParsedCertificate } from '@orbis/verify';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { DAY_MS, publishedRows, signingRow } from './anchor-series.ts';
import {
  listAnchorRows,
  loadAnchor,
  rotateAnchorSeries,
  type AnchorSeries,
  type PublishedAnchor,
} from './anchors.ts';
import { listTenantsDueForCa, MAX_ROTATION_PAGE, type StoredCertificate } from './ca-certificates.repo.ts';
import { ensurePlatform, type PlatformState } from './platform-state.ts';
import { requireSigner } from './pki-keys.ts';
import { createSeriesCache } from './series-cache.ts';
import { parseServiceHostnames } from './service-names.ts';
import type { DeviceListenerTls } from './service-tls.ts';

export type { PublishedAnchor } from './anchors.ts';
export type { DeviceListenerTls } from './service-tls.ts';

export interface ServicePkiOptions {
  readonly db: Kysely<Database>;
  readonly keyStore: KeyStore;
  readonly clock: Clock;
  /** node:crypto's randomBytes in production. */
  readonly random: Random;
  /** The names the device listener's certificate carries (DNS names and IP addresses). */
  readonly hostnames: readonly string[];
}

export interface InfrastructureStatus {
  /** IDs of the certificates this call created. */
  readonly created: readonly string[];
  /**
   * The intermediate is due for renewal but the platform root's key is offline: restore it for
   * the signing before `intermediateNotAfter`. Until then the service keeps working.
   */
  readonly rootNeeded: boolean;
  readonly intermediateNotAfter: number;
  /** The device listener's TLS certificate changed: hand deviceListenerTls() to setSecureContext. */
  readonly tlsChanged: boolean;
}

export interface TenantCaRotation {
  /** IDs of the anchors created. */
  readonly created: readonly string[];
  /** Tenants whose rotation failed this time; the next pass tries again. */
  readonly failed: readonly { readonly tenantId: string; readonly error: unknown }[];
}

/** The service's certificate authorities (ARCHITECTURE.md, "Identities and keys"). */
export interface ServicePki {
  /** Creates what is missing or due: platform root, issuing intermediate, service TLS, update CA. */
  ensureInfrastructure(now?: number): Promise<InfrastructureStatus>;
  /** Certifies a new intermediate now, whatever the old one's age (a ceremony): PKI_ROOT_OFFLINE without the root. */
  renewIntermediate(now?: number): Promise<InfrastructureStatus>;
  /** PEM for the device listener: the key, and leaf + intermediate. PKI_NOT_READY before ensureInfrastructure. */
  deviceListenerTls(): DeviceListenerTls;
  /** The platform root certificate, PEM: what devices pin at manufacture. */
  platformRootPem(): string;
  /**
   * A new tenant's first CA, in `db` (call it in the tenant-creation transaction). Returns its
   * ID, or undefined if the tenant already has a current CA.
   */
  createTenantCa(db: Kysely<Database>, tenantId: string, now: number): Promise<string | undefined>;
  /** Creates each tenant's next anchor from the rotation lead on, and a first one where none exists. */
  rotateTenantCas(now: number): Promise<TenantCaRotation>;
  /** The tenant's published anchors (current, and next during a rotation); empty for an unknown tenant. */
  tenantAnchors(tenantId: string, now: number): Promise<readonly PublishedAnchor[]>;
  tenantAnchorPems(tenantId: string, now: number): Promise<string[]>;
  /** The issuer of the tenant's anchor that signs at `now`; PKI_TENANT_CA_MISSING if none does. */
  tenantIssuer(tenantId: string, now: number): Promise<DeviceCertificateIssuer>;
  /** The update CA's published anchors: for the device listener only, never for relying parties. */
  updateAnchors(now: number): Promise<readonly PublishedAnchor[]>;
  updateIssuer(now: number): Promise<DeviceCertificateIssuer>;
}

interface SeriesEntry {
  readonly rows: readonly StoredCertificate[];
  readonly anchors: Map<string, PublishedAnchor>;
  readonly issuers: Map<string, Promise<DeviceCertificateIssuer>>;
}

/** Cache keys: one namespace per kind of series, so no tenant ID can name the update CAs. */
const UPDATE_KEY = 'update';
const tenantKey = (tenantId: string) => `tenant:${tenantId}`;

export function createServicePki(options: ServicePkiOptions): ServicePki {
  const { db, keyStore, clock, random } = options;
  const deps = { db, keyStore, random };
  const names = parseServiceHostnames(options.hostnames);
  const cache = createSeriesCache<SeriesEntry>(() => clock.now());
  let platform: PlatformState | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** Maintenance runs one at a time in this process; replicas are kept apart by the row IDs. */
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  }

  const keyOf = (series: AnchorSeries) =>
    series.kind === 'tenant' ? tenantKey(series.tenantId) : UPDATE_KEY;

  async function loadEntry(
    series: AnchorSeries,
    fresh: boolean,
  ): Promise<{ entry: SeriesEntry; cached: boolean }> {
    const hit = fresh ? undefined : cache.get(keyOf(series));
    if (hit !== undefined) return { entry: hit, cached: true };
    const entry: SeriesEntry = {
      rows: await listAnchorRows(db, series),
      anchors: new Map(),
      issuers: new Map(),
    };
    // An empty series is not cached: a tenant created by another replica has its CA at once.
    if (entry.rows.length > 0) cache.set(keyOf(series), entry);
    return { entry, cached: false };
  }

  /** `pick` from the cached rows; if that finds nothing, once more from the database. */
  async function select<T>(
    series: AnchorSeries,
    pick: (rows: readonly StoredCertificate[]) => T | undefined,
  ) {
    let { entry, cached } = await loadEntry(series, false);
    let value = pick(entry.rows);
    if (value === undefined && cached) {
      ({ entry, cached } = await loadEntry(series, true));
      value = pick(entry.rows);
    }
    return { entry, value };
  }

  function anchorOf(entry: SeriesEntry, row: StoredCertificate): PublishedAnchor {
    let anchor = entry.anchors.get(row.id);
    if (anchor === undefined) {
      anchor = loadAnchor(row);
      entry.anchors.set(row.id, anchor);
    }
    return anchor;
  }

  async function anchorsOf(series: AnchorSeries, now: number): Promise<readonly PublishedAnchor[]> {
    const { entry, value } = await select(series, (rows) => {
      const published = publishedRows(rows, now);
      return published.length > 0 ? published : undefined;
    });
    return (value ?? []).map((row) => anchorOf(entry, row));
  }

  async function createIssuer(series: AnchorSeries, entry: SeriesEntry, row: StoredCertificate) {
    const anchor = anchorOf(entry, row);
    const signer = await requireSigner(keyStore, row.keyRef);
    return createDeviceCertificateIssuer({
      caCertificate: anchor.certificate,
      signer,
      random,
      scope: series.kind === 'tenant' ? { kind: 'tenant', tenantId: series.tenantId } : { kind: 'update' },
    });
  }

  async function issuerOf(
    series: AnchorSeries,
    now: number,
    missing: ErrorCode,
  ): Promise<DeviceCertificateIssuer> {
    const { entry, value: row } = await select(series, (rows) => signingRow(rows, now));
    if (row === undefined)
      throw new ServiceError(missing, `no ${series.kind} CA signs at ${new Date(now).toISOString()}`);
    let issuer = entry.issuers.get(row.id);
    if (issuer === undefined) {
      issuer = createIssuer(series, entry, row);
      entry.issuers.set(row.id, issuer);
      // A failure (a key not found) is not kept: the next call tries again.
      issuer.catch(() => entry.issuers.delete(row.id));
    }
    return issuer;
  }

  async function maintainPlatform(now: number, renew: boolean): Promise<InfrastructureStatus> {
    const previous = platform;
    const result = await ensurePlatform(deps, names, now, { renewIntermediate: renew, previous });
    platform = result.state;
    const created = [...result.created];
    const update = await rotateAnchorSeries(deps, { kind: 'update' }, now);
    if (update !== undefined) {
      created.push(update.id);
      cache.delete(UPDATE_KEY);
    }
    return {
      created,
      rootNeeded: result.rootNeeded,
      intermediateNotAfter: result.state.intermediate.row.notAfter,
      tlsChanged: previous?.leaf.row.id !== result.state.leaf.row.id,
    };
  }

  function ready(): PlatformState {
    if (platform === undefined) throw new ServiceError('PKI_NOT_READY', 'the PKI has not been set up yet');
    return platform;
  }

  async function rotateTenants(now: number): Promise<TenantCaRotation> {
    const created: string[] = [];
    const failed: { tenantId: string; error: unknown }[] = [];
    const threshold = now + TENANT_CA_ROTATION_LEAD_DAYS * DAY_MS;
    for (let afterId = ''; ;) {
      const due = await listTenantsDueForCa(db, { threshold, afterId, limit: MAX_ROTATION_PAGE });
      for (const tenantId of due) {
        try {
          const row = await rotateAnchorSeries(deps, { kind: 'tenant', tenantId }, now);
          if (row !== undefined) created.push(row.id);
          cache.delete(tenantKey(tenantId));
        } catch (error) {
          failed.push({ tenantId, error });
        }
      }
      const last = due.at(-1);
      if (last === undefined || due.length < MAX_ROTATION_PAGE) return { created, failed };
      afterId = last;
    }
  }

  return Object.freeze({
    ensureInfrastructure: (now = clock.now()) => serialized(() => maintainPlatform(now, false)),
    renewIntermediate: (now = clock.now()) => serialized(() => maintainPlatform(now, true)),
    deviceListenerTls: () => ready().tls,
    platformRootPem: () => encodePem(ready().root.row.der),
    async createTenantCa(trx: Kysely<Database>, tenantId: string, now: number) {
      return (await rotateAnchorSeries({ ...deps, db: trx }, { kind: 'tenant', tenantId }, now))?.id;
    },
    rotateTenantCas: (now: number) => serialized(() => rotateTenants(now)),
    tenantAnchors: (tenantId: string, now: number) => anchorsOf({ kind: 'tenant', tenantId }, now),
    async tenantAnchorPems(tenantId: string, now: number) {
      return (await anchorsOf({ kind: 'tenant', tenantId }, now)).map((anchor) => anchor.pem);
    },
    tenantIssuer: (tenantId: string, now: number) =>
      issuerOf({ kind: 'tenant', tenantId }, now, 'PKI_TENANT_CA_MISSING'),
    updateAnchors: (now: number) => anchorsOf({ kind: 'update' }, now),
    updateIssuer: (now: number) => issuerOf({ kind: 'update' }, now, 'PKI_UPDATE_CA_MISSING'),
  });
}

/** The anchors as the device listener takes them (device/device-identity.ts, DeviceAnchors). */
export function deviceAnchorsOf(pki: ServicePki): {
  tenantAnchors(tenantId: string, now: number): Promise<readonly ParsedCertificate[]>;
  updateAnchors(now: number): Promise<readonly ParsedCertificate[]>;
} {
  return {
    tenantAnchors: async (tenantId, now) =>
      (await pki.tenantAnchors(tenantId, now)).map((anchor) => anchor.parsed),
    updateAnchors: async (now) => (await pki.updateAnchors(now)).map((anchor) => anchor.parsed),
  };
}
