/**
 * Crash-test child: the service attesting devices one after another with in-process deps
 * (attest(): nonce and evidence checks, appraisal, certificate issuance and the transaction
 * that records nonce, boot state and certificate), until the parent SIGKILLs it. Reports on
 * stdout `attesting <i>` before and `attested <i>` after each attestation, and `done`.
 *
 * Input (environment): ORBIS_CRASH_DATABASE_URL, ORBIS_CRASH_NONCE_KEY (hex: the key the
 * parent issued the nonces under) and ORBIS_CRASH_ATTESTATIONS (a JSON file of
 * PresignedAttestation: the devices' challenges and evidence, made by the parent).
 */
import { readFileSync } from 'node:fs';
import { attest, closeAttestation } from '../../attestation/attestation.service.ts';
import { openDatabase } from '../../db/database.ts';
import { createFleetAttestationDeps, type PresignedAttestation } from '../fleet.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const attestations = JSON.parse(
  readFileSync(required('ORBIS_CRASH_ATTESTATIONS'), 'utf8'),
) as PresignedAttestation[];
const database = await openDatabase({ url: required('ORBIS_CRASH_DATABASE_URL') });
const deps = await createFleetAttestationDeps(
  database.db,
  new Uint8Array(Buffer.from(required('ORBIS_CRASH_NONCE_KEY'), 'hex')),
);
for (const [index, attestation] of attestations.entries()) {
  process.stdout.write(`attesting ${index}\n`);
  const response = await attest(deps, { ...attestation, source: '127.0.0.1' });
  if (response.resultClass !== 'trusted') {
    process.stdout.write(`failed ${index} ${response.resultClass}\n`);
    process.exit(1);
  }
  process.stdout.write(`attested ${index}\n`);
}
await closeAttestation(deps);
await database.close();
process.stdout.write('done\n');
