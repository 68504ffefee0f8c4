import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTESTATION_POLICY_OIDS,
  deviceUri,
  GROUP_ASSIGNMENT_EXTENSION_OID,
  NO_REV_AVAIL_OID,
  type AttestationResultClass,
} from '@orbis/protocol';
import { SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID } from './samples.ts';

/**
 * Certificates made by the `openssl` tool (OpenSSL 3.0's `openssl ca`, which takes exact
 * validity dates), so tests of Orbis's certificate code are checked against certificates it
 * did not write. Slow (two processes each, ~20 ms): make them once per test file.
 */

export interface TestCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  /** The subject's private key: a CA's signing key, or a device's TLS key. */
  readonly privateKey: KeyObject;
  /** The `-subj` the certificate was issued with, e.g. `/CN=…`. */
  readonly subject: string;
}

/**
 * Extension lines for an openssl extfile, by name: `{ keyUsage: 'critical, digitalSignature' }`
 * or `{ '1.2.3.4': 'critical, DER:05:00' }`. `null` removes one of the defaults.
 */
export type TestExtensions = Readonly<Record<string, string | null>>;

export interface IssueTestCertificateOptions {
  /** The issuing CA; leave out for a self-signed certificate. */
  readonly issuer?: TestCertificate;
  /** openssl `-subj` form, e.g. `/CN=device`. */
  readonly subject: string;
  readonly extensions: TestExtensions;
  /** Milliseconds since the Unix epoch (whole seconds are kept). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** The subject's key; a new P-256 key when left out. */
  readonly privateKey?: KeyObject;
  /** The serial number; 16 random bytes when left out. */
  readonly serial?: Uint8Array;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

const CA_CONFIG = `
[ ca ]
default_ca = test
[ test ]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[ anything ]
commonName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = request
`;

/** `YYYYMMDDHHMMSSZ`, which `openssl ca` writes as UTCTime before 2050. */
function opensslTime(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function extfile(extensions: TestExtensions): string {
  const lines = Object.entries(extensions).flatMap(([name, value]) =>
    value === null ? [] : [`${name} = ${value}`],
  );
  return `[ ext ]\n${lines.join('\n')}\n`;
}

function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** Issues one certificate with `openssl req` and `openssl ca`, in a scratch directory. */
export function issueTestCertificate(options: IssueTestCertificateOptions): TestCertificate {
  const privateKey = options.privateKey ?? newKey();
  const dir = mkdtempSync(join(tmpdir(), 'orbis-cert-'));
  const file = (name: string) => join(dir, name);
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    writeFileSync(file('ca.cnf'), CA_CONFIG);
    writeFileSync(file('index.txt'), '');
    writeFileSync(file('serial'), Buffer.from(options.serial ?? randomBytes(16)).toString('hex'));
    writeFileSync(file('ext.cnf'), extfile(options.extensions));
    writeFileSync(file('subject.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    run(['req', '-new', '-config', 'ca.cnf', '-key', 'subject.key', '-out', 'request.csr']);
    const signing =
      options.issuer === undefined
        ? ['-selfsign', '-keyfile', 'subject.key']
        : ['-cert', 'issuer.pem', '-keyfile', 'issuer.key'];
    if (options.issuer !== undefined) {
      writeFileSync(file('issuer.pem'), options.issuer.pem);
      writeFileSync(file('issuer.key'), options.issuer.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    }
    run([
      'ca', '-batch', '-config', 'ca.cnf', ...signing, '-in', 'request.csr', '-out', 'certificate.pem',
      '-notext', '-md', 'sha256', '-utf8', '-preserveDN', '-subj', options.subject,
      '-startdate', opensslTime(options.notBefore), '-enddate', opensslTime(options.notAfter),
      '-extfile', 'ext.cnf', '-extensions', 'ext',
    ]); // prettier-ignore
    const pem = readFileSync(file('certificate.pem'), 'utf8');
    return { der: pemToDer(pem), pem, privateKey, subject: options.subject };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestTenantCaOptions {
  /** Default: an opaque `/CN=` of random hex, as tenant CAs have (no tenant names leak). */
  readonly subject?: string;
  /** Default: now − 5 minutes. */
  readonly notBefore?: number;
  /** Default: notBefore + 730 days. */
  readonly notAfter?: number;
  /** Merged over the tenant-CA profile. */
  readonly extensions?: TestExtensions;
  readonly privateKey?: KeyObject;
  /** Sign it with another CA instead of itself (to make intermediates). */
  readonly issuer?: TestCertificate;
}

/**
 * A tenant CA as ARCHITECTURE.md describes it: a self-signed P-256 anchor, basicConstraints
 * critical CA pathlen 0, keyUsage critical keyCertSign, a subject key identifier.
 */
export function createTestTenantCa(options: TestTenantCaOptions = {}): TestCertificate {
  const notBefore = options.notBefore ?? Date.now() - 5 * MINUTE_MS;
  return issueTestCertificate({
    subject: options.subject ?? `/CN=${randomBytes(8).toString('hex')}`,
    notBefore,
    notAfter: options.notAfter ?? notBefore + 730 * DAY_MS,
    extensions: {
      basicConstraints: 'critical, CA:TRUE, pathlen:0',
      keyUsage: 'critical, keyCertSign',
      subjectKeyIdentifier: 'hash',
      authorityKeyIdentifier: 'none',
      ...options.extensions,
    },
    ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
}

/** The DER of the group-assignment extension's value, as openssl's `DER:` hex. */
export function groupAssignmentDer(tenantId: string, productId: string, groupId: string): string {
  const utf8 = (text: string) => Buffer.concat([Uint8Array.of(0x0c, text.length), Buffer.from(text)]);
  const body = Buffer.concat([utf8(tenantId), utf8(productId), utf8(groupId)]);
  const der = Buffer.concat([Uint8Array.of(0x30, body.length), body]);
  return `DER:${[...der].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`;
}

export interface TestDeviceCertificateOptions {
  /** The tenant CA (or, for update-only certificates, the update CA) that issues it. */
  readonly ca: TestCertificate;
  readonly tenantId: string;
  readonly deviceId: string;
  /** Default: trusted. */
  readonly resultClass?: AttestationResultClass;
  /** Default: now − 5 minutes. */
  readonly notBefore?: number;
  /** Default: notBefore + 24 hours 5 minutes. */
  readonly notAfter?: number;
  readonly productId?: string;
  readonly groupId?: string;
  /** The certificate key; a new one when left out. */
  readonly privateKey?: KeyObject;
  readonly serial?: Uint8Array;
  /** Default `/CN=<device ID>`. */
  readonly subject?: string;
  /** Merged over the device-certificate profile; `null` removes an extension. */
  readonly extensions?: TestExtensions;
}

/** The device-certificate extensions of ARCHITECTURE.md, for openssl. */
export function deviceCertificateExtensions(options: TestDeviceCertificateOptions): TestExtensions {
  const resultClass = options.resultClass ?? 'trusted';
  return {
    keyUsage: 'critical, digitalSignature',
    extendedKeyUsage: resultClass === 'update-only' ? 'clientAuth' : 'clientAuth, serverAuth',
    subjectAltName: `URI:${deviceUri(options.tenantId, options.deviceId)}`,
    authorityKeyIdentifier: 'keyid:always',
    subjectKeyIdentifier: 'none',
    certificatePolicies: ATTESTATION_POLICY_OIDS[resultClass],
    [NO_REV_AVAIL_OID]: 'DER:05:00',
    [GROUP_ASSIGNMENT_EXTENSION_OID]: groupAssignmentDer(
      options.tenantId,
      options.productId ?? SAMPLE_PRODUCT_ID,
      options.groupId ?? SAMPLE_GROUP_ID,
    ),
    ...options.extensions,
  };
}

/** A device certificate in the Orbis profile, issued by `options.ca` through openssl. */
export function issueTestDeviceCertificate(options: TestDeviceCertificateOptions): TestCertificate {
  const notBefore = options.notBefore ?? Date.now() - 5 * MINUTE_MS;
  return issueTestCertificate({
    issuer: options.ca,
    subject: options.subject ?? `/CN=${options.deviceId}`,
    notBefore,
    notAfter: options.notAfter ?? notBefore + DAY_MS + 5 * MINUTE_MS,
    extensions: deviceCertificateExtensions(options),
    ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
    ...(options.serial === undefined ? {} : { serial: options.serial }),
  });
}
