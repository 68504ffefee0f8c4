import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Outside checks: what the `openssl` command-line tool (Debian's openssl package) makes of
 * Orbis's bytes, so tests do not only agree with themselves.
 */

function withFiles<T>(files: Record<string, Uint8Array>, run: (path: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'orbis-openssl-'));
  try {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    return run((name) => join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `openssl dgst -sha256 -verify` accepts a DER ECDSA signature over `data`. */
export function opensslVerifies(spki: Uint8Array, data: Uint8Array, derSignature: Uint8Array): boolean {
  return withFiles({ 'key.der': spki, data, 'sig.der': derSignature }, (path) => {
    const args = [
      'dgst',
      '-sha256',
      '-keyform',
      'DER',
      '-verify',
      path('key.der'),
      '-signature',
      path('sig.der'),
    ];
    try {
      const output = execFileSync('openssl', [...args, path('data')], { stdio: ['ignore', 'pipe', 'pipe'] });
      return output.toString().trim() === 'Verified OK';
    } catch {
      return false;
    }
  });
}

/** Runs `openssl` with `input` on standard input and returns standard output. */
export function openssl(args: readonly string[], input: string | Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'ignore'] }));
}

/** PEM armour (RFC 7468) around DER bytes. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** `openssl x509 -inform DER -text -noout`: what OpenSSL reads in a DER certificate. */
export function opensslCertificateText(der: Uint8Array): string {
  return new TextDecoder().decode(openssl(['x509', '-inform', 'DER', '-text', '-noout'], der));
}

export interface OpensslVerifyOptions {
  /** Trust anchors, DER, written together as the -CAfile. */
  readonly anchors: readonly Uint8Array[];
  readonly leaf: Uint8Array;
  /** `-purpose`: sslclient, sslserver, … */
  readonly purpose: string;
  /** `-attime`, milliseconds since the Unix epoch, so fixed test times verify. */
  readonly at: number;
}

/**
 * `openssl verify -x509_strict -purpose P -attime T -CAfile anchors.pem leaf.pem`. Returns
 * whether it printed OK, and everything it printed (the error names the failing check).
 */
export function opensslVerifyCertificate(options: OpensslVerifyOptions): {
  verified: boolean;
  output: string;
} {
  const files = {
    'anchors.pem': new TextEncoder().encode(options.anchors.map((anchor) => toPem(anchor)).join('')),
    'leaf.pem': new TextEncoder().encode(toPem(options.leaf)),
  };
  return withFiles(files, (path) => {
    const args = ['verify', '-x509_strict', '-purpose', options.purpose];
    args.push(
      '-attime',
      String(Math.floor(options.at / 1000)),
      '-CAfile',
      path('anchors.pem'),
      path('leaf.pem'),
    );
    try {
      const output = execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      return { verified: output.trim().endsWith(': OK'), output };
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
      return { verified: false, output: `${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}` };
    }
  });
}

export interface OpensslSelfSignedOptions {
  /** `-newkey` with its options, e.g. `['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']`. */
  readonly newKey: readonly string[];
  /** `-sha256`, `-sha384`, … */
  readonly digest: string;
  /** The body of the extensions section, one `name = value` per line. */
  readonly extensions: string;
}

/**
 * A self-signed certificate written by `openssl req -x509` with exactly the extensions given:
 * third-party certificates for testing what Orbis's parsers accept and refuse. Returns DER.
 */
export function opensslSelfSigned(options: OpensslSelfSignedOptions): Uint8Array {
  const config = [
    '[req]',
    'distinguished_name = dn',
    'x509_extensions = ext',
    'prompt = no',
    '[dn]',
    'O = Outside',
    'CN = Outside CA',
    '[ext]',
    options.extensions,
    '',
  ].join('\n');
  return withFiles({ 'req.cnf': new TextEncoder().encode(config) }, (path) => {
    const args = ['req', '-x509', '-new', '-nodes', '-newkey', ...options.newKey, options.digest];
    args.push('-keyout', path('key.pem'), '-days', '30', '-config', path('req.cnf'), '-outform', 'DER');
    return new Uint8Array(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] }));
  });
}
