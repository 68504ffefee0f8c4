/**
 * Attestation in the service against the raw P-256 operations it is built on (one DER sign
 * plus one DER verify with cached KeyObjects), measured in the same run. Run on one core with
 * `taskset -c 0 node_modules/.bin/node bench/attestation.ts`; results go in docs/benchmarks.md.
 * Needs PostgreSQL at ORBIS_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * - Attestation in process on SQLite (a file, WAL, synchronous=FULL) and on PostgreSQL (a
 *   fresh database): each operation is issueChallenge plus attest() on evidence the device
 *   signed beforehand (the device's own signature is not counted); each pre-signed nonce is
 *   used once. With several in flight, their writes share commits (group commit); each row
 *   says how many shared one on average. Then each step of attest() alone.
 * - The device protocol over real TLS: the device listener's CPU time per connection, the
 *   device in a child process, with a bare node:tls server for reference.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { createFleetDevices, type PresignedAttestation } from '../packages/service/src/crash/fleet.ts';
import type { Backend } from '../packages/service/src/db/test-databases.ts';
import type { SoftwareDevice } from '../packages/service/src/testing/software-device.ts';
import { attestPresigned, openBackend, presignAttestations, type BackendRun } from './attestation-backend.ts';
import { attestationPhases } from './attestation-phases.ts';
import { IdentityKeyCache } from '../packages/service/src/attestation/attestation.store.ts';
import {
  RATE_TABLE_HEADER,
  countedOps,
  measureCounted,
  measureTimed,
  rateRow,
  type RoundRate,
} from './bounded.ts';
import { issueListenerTestCertificate } from '../packages/service/src/testing/test-pki.ts';
import { measureBareTls, measureListener, type TlsCostRow } from './tls-cost.ts';

const DEVICES = 2000;
const ATTEST_ROUNDS = { opsPerRound: 400, rounds: 5 } as const;
const CONCURRENCIES = [1, 8, 64] as const;
const MOST_IN_FLIGHT = 64;
const PHASE_ROUND_MS = 150;
const PHASE_ROUNDS = 5;
const BASELINE_ROUND_MS = 400;
const BASELINE_ROUNDS = 5;
const TLS_OPTIONS = { connections: 400, rounds: 3 } as const;

const startedAt = performance.now();
process.stderr.write(`making ${DEVICES} software devices\n`);
const devices = createFleetDevices(DEVICES);
const nonceKey = randomBytes(32);

// The baseline signs and verifies a message as long as the evidence's JWS signing input.
const baselineKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sampleEvidence = (devices[0] as SoftwareDevice).evidence('n'.repeat(51), Date.now());
const baselineMessage = new Uint8Array(sampleEvidence.lastIndexOf('.')).fill(0x5a);
const BASELINE_NAME = `raw node:crypto P-256 sign + verify (DER, cached KeyObjects), ${baselineMessage.byteLength} bytes (baseline)`;
const measureBaseline = () =>
  measureTimed(
    () => {
      const signature = sign('sha256', baselineMessage, baselineKeys.privateKey);
      return verify('sha256', baselineMessage, baselineKeys.publicKey, signature);
    },
    BASELINE_ROUND_MS,
    BASELINE_ROUNDS,
  );

const sections: [string, string][] = [];
const table = (title: string, rows: string[]) =>
  sections.push([title, `${RATE_TABLE_HEADER}\n${rows.join('\n')}`]);

/**
 * issueChallenge + attest(), sequential and with several in flight, each on its own nonces;
 * then the most in flight again with the identity-key cache off, as for a fleet larger than it.
 */
async function attestationRows(run: BackendRun, label: string, presigned: PresignedAttestation[]) {
  const baseline = await measureBaseline();
  const rows = [rateRow(BASELINE_NAME, baseline, baseline)];
  const uncached: BackendRun = { ...run, deps: { ...run.deps, identityKeys: new IdentityKeyCache(0) } };
  const cases = [
    ...CONCURRENCIES.map((concurrency) => ({ concurrency, run, note: '' })),
    { concurrency: MOST_IN_FLIGHT, run: uncached, note: ', identity keys parsed every time (no cache)' },
  ];
  let offset = 0;
  for (const { concurrency, run: target, note } of cases) {
    const first = offset;
    offset += countedOps(ATTEST_ROUNDS);
    const { commits, records } = run.deps.recorder;
    const rate = await measureCounted({
      ...ATTEST_ROUNDS,
      concurrency,
      run: (index) => attestPresigned(target, presigned[first + index] as PresignedAttestation),
    });
    const perCommit = (run.deps.recorder.records - records) / (run.deps.recorder.commits - commits);
    const how = concurrency === 1 ? 'sequential' : `${concurrency} in flight`;
    rows.push(
      rateRow(
        `issueChallenge + attest(), ${label}, ${how} (${perCommit.toFixed(1)} per commit)${note}`,
        rate,
        baseline,
      ),
    );
  }
  return rows;
}

async function phaseRows(run: BackendRun): Promise<string[]> {
  const baseline = await measureBaseline();
  const rows = [rateRow(BASELINE_NAME, baseline, baseline)];
  for (const [name, phase] of await attestationPhases(run, devices)) {
    rows.push(rateRow(name, await measureTimed(phase, PHASE_ROUND_MS, PHASE_ROUNDS), baseline));
  }
  return rows;
}

function tlsTable(baseline: RoundRate, rows: TlsCostRow[]): string {
  const baselineCpu = baseline.cpuMicrosPerOp;
  return [
    '| case | server CPU µs per connection | ratio to one sign + verify | wall µs per connection | resumed | 200 responses |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| ${BASELINE_NAME}, CPU µs per sign + verify | ${baselineCpu.toFixed(1)} | 1.00 | | | |`,
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.cpuMicros.toFixed(0)} | ${(row.cpuMicros / baselineCpu).toFixed(1)} | ${row.wallMicros.toFixed(0)} | ${row.resumed}/${row.count} | ${row.ok}/${row.count} |`,
    ),
  ].join('\n');
}

async function tlsSection(run: BackendRun): Promise<void> {
  const serverTls = issueListenerTestCertificate(Date.now());
  const device = devices[1] as SoftwareDevice;
  const baseline = await measureBaseline();
  const listenerRows = await measureListener(run, device, serverTls, TLS_OPTIONS);
  // Any client certificate does for bare TLS, which checks nothing: the server's own will do.
  const bareRows = await measureBareTls(
    serverTls,
    { cert: serverTls.pem, key: serverTls.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string },
    TLS_OPTIONS,
  );
  sections.push([
    'Device protocol over TLS: server CPU per connection (device in a child process)',
    tlsTable(baseline, [...listenerRows, ...bareRows]),
  ]);
}

// Both backends use the same pre-signed attestations (their databases are separate), made
// with the first backend's deps: a nonce depends only on the shared nonce key.
const presignedCount = (CONCURRENCIES.length + 1) * countedOps(ATTEST_ROUNDS);
let presigned: PresignedAttestation[] = [];

async function backendSections(backend: Backend, label: string) {
  process.stderr.write(`${label}: seeding ${DEVICES} devices`);
  const run = await openBackend(backend, devices, nonceKey);
  try {
    if (presigned.length === 0) presigned = presignAttestations(run, devices, presignedCount);
    process.stderr.write(`, ${presignedCount} pre-signed attestations`);
    table(`Attestation on ${label}, in process`, await attestationRows(run, label, presigned));
    table(`Steps of attest() on ${label}, each alone`, await phaseRows(run));
    if (backend === 'sqlite') await tlsSection(run);
  } finally {
    await run.close();
    process.stderr.write('\n');
  }
}

await backendSections('sqlite', 'SQLite (file, WAL, synchronous=FULL)');
await backendSections('postgres', 'PostgreSQL 15 (127.0.0.1, fresh database)');

console.log(
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ${DEVICES} registered and claimed software devices; attestation rates are the median of ${ATTEST_ROUNDS.rounds} rounds of ${ATTEST_ROUNDS.opsPerRound} after a warm-up round; ${presignedCount} pre-signed attestations; the run took ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`,
);
for (const [title, body] of sections) console.log(`### ${title}\n\n${body}\n`);
