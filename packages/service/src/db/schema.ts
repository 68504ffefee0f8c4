import type { Generated } from 'kysely';

/**
 * The database as Kysely sees it: one row type per table, in the database's own names and
 * shapes. Repositories translate these into API types (camelCase, booleans, no secrets).
 *
 * Conventions, identical on SQLite and PostgreSQL:
 * - IDs are text: UUIDs for tenants, users, tokens, products and groups; 64 lowercase hex
 *   characters for devices.
 * - Times are milliseconds since the Unix epoch in BIGINT columns, read back as numbers
 *   (database.ts makes pg parse int8 as a number, refusing values beyond 2^53).
 * - Booleans are INTEGER 0 or 1 (`Flag`): SQLite has no boolean type.
 * - Binary values (keys, certificates) are BLOB on SQLite and BYTEA on PostgreSQL, read back
 *   as Uint8Array (pg returns a Buffer, which is one).
 */
export type Flag = 0 | 1;
export type MembershipRole = 'Administrator' | 'Contributor' | 'Reader';
export type TokenKind = 'session' | 'api';
export type CaCertificateKind = 'tenant' | 'update' | 'platform';
export type CertificateResultClass = 'trusted' | 'development' | 'update-only';

export interface TenantsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  /** Unique; stored NFC-normalised and lowercased, so the comparison is case-insensitive. */
  email: string;
  password_hash: string;
  is_platform_operator: Flag;
  created_at: number;
}

export interface MembershipsTable {
  user_id: string;
  tenant_id: string;
  role: MembershipRole;
  created_at: number;
}

export interface TokensTable {
  id: string;
  /** SHA-256 of the secret, hex; the secret itself is shown once and never stored. */
  token_hash: string;
  kind: TokenKind;
  /** Set for session tokens (their user); for API tokens, the user who created it, if any. */
  user_id: string | null;
  /** Set for API tokens only: the one tenant the token acts in. */
  tenant_id: string | null;
  /** Set for API tokens only: the token's role within its tenant. */
  role: MembershipRole | null;
  name: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface ManufacturersTable {
  id: string;
  name: string;
  /** The key that signs this manufacturer's device lists: canonical P-256 SPKI, DER. */
  public_key_spki: Uint8Array;
  created_at: number;
}

export interface DevicesTable {
  /** SHA-256 of identity_spki, 64 lowercase hex characters. */
  device_id: string;
  /** Canonical P-256 SubjectPublicKeyInfo, DER; unique across all devices. */
  identity_spki: Uint8Array;
  /** The identity key's TPM2B_PUBLIC when it lives in a TPM; null for other roots of trust. */
  identity_tpm_public: Uint8Array | null;
  manufacturer_id: string;
  model: string;
  registered_at: number;
  /** Null until claimed; set once, never changed (claims are permanent). */
  tenant_id: string | null;
  claimed_at: number | null;
  disabled: Generated<Flag>;
  quarantined: Generated<Flag>;
  group_id: string | null;
  last_bootcount: number | null;
  last_bootseed: string | null;
  last_attested_at: number | null;
  /**
   * Issue time (ms) of the newest nonce an admitted attestation of this device used: only a
   * newer nonce is accepted (ADR 0009). Null before the first attestation.
   */
  last_nonce_at: number | null;
  /** The capability epoch last seen in this device's evidence (a root-of-trust counter). */
  capability_epoch: Generated<number>;
  /** The device's current certificate, written with the boot state by attestation (ADR 0007). */
  certificate_serial: string | null;
  certificate_result_class: CertificateResultClass | null;
  certificate_not_before: number | null;
  certificate_not_after: number | null;
}

export interface OsReleasesTable {
  id: string;
  component_id: string;
  version: string;
  security_version: number;
  /** SHA-256 of the image, hex; unique. */
  sha256: string;
  signer: string;
  registered_at: number;
  /** The boot stage: bootloader, security-monitor or os. */
  kind: Generated<string>;
  /** The OS release this stage is part of, e.g. 26.11. */
  release_version: Generated<string>;
}

/** One row (id 1): what attestation needs to know about all OS releases at once. */
export interface OsReferenceTable {
  id: number;
  /** Raised by every change to os_releases, in the same transaction. */
  revision: number;
  /** The highest security version of any registered stage of kind 'os' (0 if none). */
  latest_os_security_version: number;
}

export interface OsFeedsTable {
  feed: 'Retail' | 'RetailEval';
  min_security_version: Generated<number>;
  min_effective_from: Generated<number>;
  updated_at: number;
}

export interface SecurityEventsTable {
  id: string;
  tenant_id: string | null;
  device_id: string;
  code: string;
  detail: string;
  source: string;
  at: number;
}

export interface CaCertificatesTable {
  id: string;
  /** Set for tenant CAs only. */
  tenant_id: string | null;
  kind: CaCertificateKind;
  der: Uint8Array;
  subject_key_id: string;
  not_before: number;
  not_after: number;
  /** When this CA starts signing (a rotated-in anchor is published before it signs). */
  signs_from: number;
  /** The KeyStore entry holding the CA's private key. */
  key_ref: string;
  created_at: number;
}

export interface ProductsTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: number;
}

export interface DeviceGroupsTable {
  id: string;
  tenant_id: string;
  product_id: string;
  name: string;
  os_feed: string;
  update_policy: string;
  min_os_security_version: number | null;
  created_at: number;
}

export interface AuditLogTable {
  /** A tenant's ID, or PLATFORM_AUDIT_CHAIN ('platform') for platform-level events. */
  tenant_id: string;
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  source: string;
  /** RFC 8785 canonical JSON of the event's details object. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  tenant_id: string;
  seq: number;
  hash: string;
  signature: string;
  key_id: string;
  signed_at: number;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  tokens: TokensTable;
  settings: SettingsTable;
  manufacturers: ManufacturersTable;
  devices: DevicesTable;
  os_releases: OsReleasesTable;
  ca_certificates: CaCertificatesTable;
  products: ProductsTable;
  device_groups: DeviceGroupsTable;
  audit_log: AuditLogTable;
  audit_heads: AuditHeadsTable;
  os_feeds: OsFeedsTable;
  os_reference: OsReferenceTable;
  security_events: SecurityEventsTable;
}
