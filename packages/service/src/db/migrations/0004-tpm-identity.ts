import type { Kysely } from 'kysely';
import { binaryColumnType } from '../backend.ts';

/*
 * Devices whose identity key lives in a TPM (ARCHITECTURE.md, Attestation step 2, "With the TPM
 * backend"): the manufacturer's list carries the key's TPM2B_PUBLIC, and the service keeps it
 * beside the SPKI. Attestation reads it to check that the key is restricted and to know the
 * key's TPM name, and demands a quote from every device that has one. Null for other devices.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('identity_tpm_public', binaryColumnType(db)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('identity_tpm_public').execute();
}
