import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.ts';
import * as attestation from './0002-attestation.ts';
import * as attestationState from './0003-attestation-state.ts';
import * as tpmIdentity from './0004-tpm-identity.ts';
import * as nonceHighWaterMark from './0005-nonce-high-water-mark.ts';

/**
 * Every migration, by name; the migrator runs them in name order. Add a module
 * `NNNN-what.ts` exporting `up` (and `down` if it can be undone) and list it here. A released
 * migration is never edited: the migrator refuses a database that has run a migration this
 * list does not name (a newer Orbis opened it).
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': initial,
  '0002-attestation': attestation,
  '0003-attestation-state': attestationState,
  '0004-tpm-identity': tpmIdentity,
  '0005-nonce-high-water-mark': nonceHighWaterMark,
});

/** Migrations compiled into the service, so nothing is read from disk at run time. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
