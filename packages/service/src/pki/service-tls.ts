import { X509Certificate } from 'node:crypto';
import { issueServerCertificate } from '@orbis/ca';
import { encodeHex, isValidSignature, type Signer, encodePem } from '@orbis/crypto';
import { OrbisError } from '@orbis/protocol';
import { parseCertificate, type ParsedCertificate } from '@orbis/verify';
import { CA_BACKDATE_MS, DAY_MS, nextGeneration } from './anchor-series.ts';
import { listSeries, type StoredCertificate } from './ca-certificates.repo.ts';
import { getOrCreateSigner, requireSigner } from './pki-keys.ts';
import {
  PLATFORM_KEY_NAMES,
  storePlatformCertificate,
  type PlatformDeps,
  type StoredCa,
} from './platform-pki.ts';
import type { ServiceNames } from './service-names.ts';

/**
 * The device listener's TLS certificate: issued by the intermediate for the configured names,
 * 90 days, renewed once 30 or fewer are left (or when the names or the intermediate changed).
 * Its key (`service-tls`) is kept across renewals. Node's TLS needs the private key itself,
 * so this is the one PKI key read out of the KeyStore (exportKey), into memory only.
 */

export const SERVICE_TLS_LIFETIME_DAYS = 90;
export const SERVICE_TLS_RENEWAL_DAYS = 30;

/** PEM for `https.createServer`: the key, and the chain the server sends (leaf, then intermediate). */
export interface DeviceListenerTls {
  readonly key: string;
  readonly cert: string;
}

export interface ServiceLeaf {
  readonly row: StoredCertificate;
  readonly parsed: ParsedCertificate;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

function namesCovered(der: Uint8Array, names: ServiceNames): boolean {
  const certificate = new X509Certificate(der);
  return (
    names.dnsNames.every((name) => certificate.checkHost(name, { wildcards: false }) === name) &&
    names.ipAddresses.every((address) => certificate.checkIP(address) === address)
  );
}

/** A stored leaf usable now: issued and signed by this intermediate, for this key, naming every configured name. */
function readUsableLeaf(
  row: StoredCertificate,
  intermediate: StoredCa,
  key: Signer,
  names: ServiceNames,
  now: number,
) {
  if (row.notBefore > now || now >= row.notAfter) return undefined;
  let parsed: ParsedCertificate;
  try {
    parsed = parseCertificate(row.der);
  } catch (error) {
    if (error instanceof OrbisError) return undefined;
    throw error;
  }
  const usable =
    sameBytes(parsed.authorityKeyIdentifier, intermediate.certificate.subjectKeyIdentifier) &&
    isValidSignature(intermediate.certificate.publicKey, parsed.tbs, parsed.signatureValue, 'der') &&
    parsed.publicKey.keyId === key.publicKey.keyId &&
    namesCovered(row.der, names);
  return usable ? { row, parsed } : undefined;
}

/**
 * The leaf to serve at `now`, issuing a new one when there is no usable stored one, or when 30
 * or fewer days are left and the intermediate allows a longer one. Returns whether it issued.
 */
export async function ensureServiceLeaf(
  deps: PlatformDeps,
  intermediate: StoredCa,
  names: ServiceNames,
  now: number,
): Promise<{ leaf: ServiceLeaf; issued: boolean }> {
  const keyRef = PLATFORM_KEY_NAMES.serviceTls;
  const key = await getOrCreateSigner(deps.keyStore, keyRef);
  const rows = await listSeries(deps.db, { kind: 'platform', keyRef });
  const current = rows
    .map((row) => readUsableLeaf(row, intermediate, key, names, now))
    .find((leaf) => leaf !== undefined);
  const ceiling = Math.min(now + SERVICE_TLS_LIFETIME_DAYS * DAY_MS, intermediate.row.notAfter);
  if (
    current !== undefined &&
    (current.row.notAfter - now > SERVICE_TLS_RENEWAL_DAYS * DAY_MS || ceiling <= current.row.notAfter)
  ) {
    return { leaf: current, issued: false };
  }
  const signer = await requireSigner(deps.keyStore, PLATFORM_KEY_NAMES.intermediate);
  const issued = await issueServerCertificate({
    issuer: intermediate.certificate,
    issuerSigner: signer,
    subjectKey: key.publicKey,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    random: deps.random,
    notBefore: now - CA_BACKDATE_MS,
    notAfter: ceiling,
  });
  const parsed = parseCertificate(issued.der);
  const row: StoredCertificate = {
    id: `${keyRef}.${nextGeneration(rows)}`,
    kind: 'platform',
    tenantId: null,
    der: issued.der,
    subjectKeyId: encodeHex(parsed.subjectKeyIdentifier ?? new Uint8Array(0)),
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    signsFrom: issued.notBefore,
    keyRef,
    createdAt: now,
  };
  const details = { issuer: intermediate.row.id, names: [...names.dnsNames, ...names.ipAddresses] };
  if (!(await storePlatformCertificate(deps.db, row, 'pki.service-tls.issue', details))) {
    // Another replica issued this generation at the same moment; either certificate serves.
    return ensureServiceLeaf(deps, intermediate, names, now);
  }
  return { leaf: { row, parsed }, issued: true };
}

/** The TLS material for the device listener: the key read from the KeyStore, leaf and intermediate. */
export async function deviceListenerTlsOf(
  deps: PlatformDeps,
  leaf: ServiceLeaf,
  intermediate: StoredCa,
): Promise<DeviceListenerTls> {
  const pkcs8 = await deps.keyStore.exportKey(PLATFORM_KEY_NAMES.serviceTls);
  return Object.freeze({
    key: encodePem(pkcs8, 'PRIVATE KEY'),
    cert: encodePem(leaf.row.der) + encodePem(intermediate.row.der),
  });
}
