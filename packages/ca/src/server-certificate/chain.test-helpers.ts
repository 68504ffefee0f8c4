import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSoftwareSigner } from '@orbis/crypto';
import { cryptoRandom, toPem } from '@orbis/testkit';
import type { CaCertificate } from '../ca-certificate/ca-certificate.ts';
import { createCaCertificate } from '../ca-certificate/create-ca-certificate.ts';
import { createIntermediateCaCertificate } from '../ca-certificate/create-intermediate-ca-certificate.ts';
import { DAY_MS, NOW } from '../fixtures.test-helpers.ts';

export interface ChainVerifyOptions {
  /** The one trust anchor, written as -CAfile. */
  readonly root: Uint8Array;
  /** Certificates OpenSSL may use to build the path but does not trust (-untrusted). */
  readonly untrusted: readonly Uint8Array[];
  readonly leaf: Uint8Array;
  readonly purpose: string;
  /** Milliseconds since the Unix epoch. */
  readonly at: number;
}

/** `openssl verify -x509_strict -purpose P -attime T -CAfile root -untrusted chain leaf`. */
export function opensslVerifyChain(options: ChainVerifyOptions): { verified: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'orbis-chain-'));
  try {
    const file = (name: string, ders: readonly Uint8Array[]) => {
      writeFileSync(join(dir, name), ders.map((der) => toPem(der)).join(''));
      return join(dir, name);
    };
    const args = ['verify', '-x509_strict', '-purpose', options.purpose];
    args.push('-attime', String(Math.floor(options.at / 1000)), '-CAfile', file('root.pem', [options.root]));
    if (options.untrusted.length > 0) args.push('-untrusted', file('untrusted.pem', options.untrusted));
    args.push(file('leaf.pem', [options.leaf]));
    try {
      const output = execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      return { verified: output.trim().endsWith(': OK'), output };
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
      return { verified: false, output: `${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FixtureChain {
  readonly root: CaCertificate;
  readonly rootSigner: ReturnType<typeof generateSoftwareSigner>['signer'];
  readonly intermediate: CaCertificate;
  readonly intermediateKey: ReturnType<typeof generateSoftwareSigner>;
}

/** A platform-root-shaped CA (pathLen 1, 20 years) and an intermediate (pathLen 0, 5 years) from `at`. */
export async function fixtureChain(at = NOW): Promise<FixtureChain> {
  const { signer: rootSigner } = generateSoftwareSigner();
  const root = await createCaCertificate({
    signer: rootSigner,
    random: cryptoRandom,
    notBefore: at - DAY_MS,
    notAfter: at + 20 * 365 * DAY_MS,
    pathLength: 1,
  });
  const intermediateKey = generateSoftwareSigner();
  const intermediate = await createIntermediateCaCertificate({
    issuer: root,
    issuerSigner: rootSigner,
    subjectKey: intermediateKey.signer.publicKey,
    random: cryptoRandom,
    notBefore: at - DAY_MS,
    notAfter: at + 5 * 365 * DAY_MS,
    pathLength: 0,
  });
  return { root, rootSigner, intermediate, intermediateKey };
}
