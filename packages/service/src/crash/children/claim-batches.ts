/**
 * Crash-test child: the service claiming devices in batches through its HTTP route
 * (POST /api/v1/tenants/:tenantId/devices/claims, one transaction per batch: the claim, the
 * default group and the audit event), until the parent SIGKILLs it. Reports on stdout
 * `claiming <i>` before and `claimed <i>` after each batch, and `done` at the end.
 *
 * Input (environment): ORBIS_CRASH_DATABASE_URL, ORBIS_CRASH_TENANT_ID, ORBIS_CRASH_TOKEN (an
 * Administrator of the tenant) and ORBIS_CRASH_BATCHES (a JSON file: an array of arrays of
 * device IDs).
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildApp } from '../../app.ts';
import { parseConfig } from '../../config.ts';
import { openDatabase } from '../../db/database.ts';
import { httpCaller } from '../../testing/service-fixture.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const tenantId = required('ORBIS_CRASH_TENANT_ID');
const token = required('ORBIS_CRASH_TOKEN');
const batches = JSON.parse(readFileSync(required('ORBIS_CRASH_BATCHES'), 'utf8')) as string[][];
const database = await openDatabase({ url: required('ORBIS_CRASH_DATABASE_URL') });
const app = await buildApp(parseConfig({ ORBIS_LOG_LEVEL: 'silent' }, tmpdir()), {
  database,
  clock: { now: Date.now },
});
const call = httpCaller(app.api);
for (const [index, deviceIds] of batches.entries()) {
  process.stdout.write(`claiming ${index}\n`);
  const response = await call('POST', `/api/v1/tenants/${tenantId}/devices/claims`, token, { deviceIds });
  if (response.status !== 201) {
    process.stdout.write(`failed ${index} ${response.status} ${JSON.stringify(response.body)}\n`);
    process.exit(1);
  }
  process.stdout.write(`claimed ${index}\n`);
}
await app.close();
process.stdout.write('done\n');
