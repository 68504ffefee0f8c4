import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { connect } from 'node:tls';
import { createServer } from 'node:https';
import type { Kysely } from 'kysely';
import type { DeviceCertificateIssuer, IssuedDeviceCertificate } from '@orbis/ca';
import { deviceIdFromPublicKey, generateSoftwareSigner, type Random } from '@orbis/crypto';
import { DEVICE_CERTIFICATE_BACKDATE_SECONDS, type AttestationResultClass } from '@orbis/protocol';
import { SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID, toPem } from '@orbis/testkit';
import type { Database } from '../db/schema.ts';
import { FileKeyStore } from '../keys/file-key-store.ts';
import { insertTenant } from '../tenants/tenants.repo.ts';
import { createServicePki, type ServicePki } from './service-pki.ts';

/** Test-only helpers for the PKI: real KeyStore directories, openssl checks, device certificates. */

export const DAY = 86_400_000;
export const testRandom: Random = { bytes: (length) => new Uint8Array(randomBytes(length)) };

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

export function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'orbis-pki-'));
  directories.push(directory);
  return directory;
}

/** A KeyStore directory and master key; `open()` gives a fresh instance, as a restarted service would. */
export function keyStoreAt(directory = join(temporaryDirectory(), 'keys')) {
  const masterKey = randomBytes(32);
  return {
    directory,
    open: () => FileKeyStore.open({ directory, masterKey, now: () => Date.now() }),
  };
}

export async function openPki(
  db: Kysely<Database>,
  keys: ReturnType<typeof keyStoreAt>,
  now: () => number = Date.now,
  keyStore?: FileKeyStore,
): Promise<ServicePki> {
  return createServicePki({
    db,
    keyStore: keyStore ?? (await keys.open()),
    clock: { now },
    random: testRandom,
    hostnames: ['localhost', '127.0.0.1', '::1'],
  });
}

export async function createTenantRow(db: Kysely<Database>, now: number): Promise<string> {
  return (await insertTenant(db, { id: randomUUID(), name: 'T', createdAt: now })).id;
}

/** A device certificate as attestation would ask for one at `now`. */
export function issueAt(
  issuer: DeviceCertificateIssuer,
  tenantId: string,
  now: number,
  resultClass: AttestationResultClass = 'trusted',
): Promise<IssuedDeviceCertificate> {
  return issuer.issue({
    deviceId: deviceIdFromPublicKey(generateSoftwareSigner().signer.publicKey),
    tenantId,
    productId: SAMPLE_PRODUCT_ID,
    groupId: SAMPLE_GROUP_ID,
    resultClass,
    certificateKey: generateSoftwareSigner().signer.publicKey,
    notBefore: now - DEVICE_CERTIFICATE_BACKDATE_SECONDS * 1000,
    notAfter: now + DAY,
  });
}

export interface ChainCheck {
  /** Trusted (-CAfile), DER or PEM. */
  readonly trusted: readonly (Uint8Array | string)[];
  /** Path-building help OpenSSL does not trust (-untrusted). */
  readonly untrusted?: readonly (Uint8Array | string)[];
  readonly leaf: Uint8Array | string;
  readonly purpose: string;
  readonly at: number;
}

/** `openssl verify -x509_strict -purpose P -attime T -CAfile … [-untrusted …] leaf`. */
export function opensslVerify(check: ChainCheck): { verified: boolean; output: string } {
  const directory = temporaryDirectory();
  const file = (name: string, items: readonly (Uint8Array | string)[]) => {
    writeFileSync(
      join(directory, name),
      items.map((item) => (typeof item === 'string' ? item : toPem(item))).join(''),
    );
    return join(directory, name);
  };
  const args = [
    'verify',
    '-x509_strict',
    '-purpose',
    check.purpose,
    '-attime',
    String(Math.floor(check.at / 1000)),
  ];
  args.push('-CAfile', file('trusted.pem', check.trusted));
  if (check.untrusted !== undefined) args.push('-untrusted', file('untrusted.pem', check.untrusted));
  args.push(file('leaf.pem', [check.leaf]));
  try {
    const output = execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return { verified: output.trim().endsWith(': OK'), output };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    return { verified: false, output: `${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}` };
  }
}

/** `openssl x509 -text` of a PEM or DER certificate. */
export function opensslText(certificate: Uint8Array | string): string {
  const pem = typeof certificate === 'string' ? certificate : toPem(certificate);
  return execFileSync('openssl', ['x509', '-text', '-noout'], { input: pem }).toString();
}

/** Splits a PEM bundle into its certificates' PEM. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----\n[^-]+-----END CERTIFICATE-----\n/g) ?? [];
}

/**
 * A real TLS handshake with the device listener's key and chain, by a client that trusts only
 * `rootPem` (what devices pin) and checks the host name `servername`.
 */
export async function handshake(tls: { key: string; cert: string }, rootPem: string, servername: string) {
  const server = createServer({ key: tls.key, cert: tls.cert }, (_request, response) => response.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<Error | undefined>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca: rootPem, servername });
      socket.once('secureConnect', () => {
        socket.end();
        resolve(undefined);
      });
      socket.once('error', (error: Error) => resolve(error));
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
