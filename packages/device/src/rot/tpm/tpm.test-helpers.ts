import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startSwtpm, type RunningSwtpm } from './swtpm.ts';
import { tpm2 } from './tpm2-tools.ts';
import { manufactureTpmRootOfTrust, openTpmRootOfTrust, type ManufactureTpmOptions } from './tpm-backend.ts';
import type { TpmRootOfTrust } from './tpm-root-of-trust.ts';

/** Test-only helpers for the TPM backend: a swtpm per test, devices on it, quote checks. */

export interface TestTpm {
  /** A temp directory for the test, removed afterwards. */
  readonly root: string;
  readonly tpm: RunningSwtpm;
  /** Roots of trust the test opened, closed when it ends. */
  readonly opened: TpmRootOfTrust[];
  /** Another swtpm for this test, stopped with it. */
  startAnother(name: string): Promise<RunningSwtpm>;
}

/**
 * A fresh swtpm (on free ports) and temp directory for one test. beginBoot power-cycles the
 * whole TPM and PCR 8 is the platform's, so tests do not share one.
 */
export async function startTestTpm(t: TestContext): Promise<TestTpm> {
  const root = await mkdtemp(join(tmpdir(), 'orbis-tpm-rot-'));
  const swtpms: RunningSwtpm[] = [];
  const opened: TpmRootOfTrust[] = [];
  t.after(async () => {
    for (const rot of opened) await rot.close();
    for (const running of swtpms) await running.stop();
    await rm(root, { recursive: true, force: true });
  });
  const startAnother = async (name: string) => {
    const running = await startSwtpm(join(root, name));
    swtpms.push(running);
    return running;
  };
  return { root, tpm: await startAnother('swtpm'), opened, startAnother };
}

export interface TestTpmDevice extends TestTpm {
  readonly dir: string;
  readonly rot: TpmRootOfTrust;
  /** Closes the current root of trust and opens the directory again. */
  reopen(): Promise<TpmRootOfTrust>;
}

/** A device manufactured on a fresh swtpm, with manufacturing complete unless asked otherwise. */
export async function manufacturedTpmDevice(
  t: TestContext,
  { complete = true, ...options }: Omit<ManufactureTpmOptions, 'tpm'> & { readonly complete?: boolean } = {},
): Promise<TestTpmDevice> {
  const testTpm = await startTestTpm(t);
  const dir = join(testTpm.root, 'device');
  const rot = await manufactureTpmRootOfTrust(dir, { ...options, tpm: testTpm.tpm });
  testTpm.opened.push(rot);
  if (complete) await rot.completeManufacturing();
  let current = rot;
  return {
    ...testTpm,
    dir,
    rot,
    async reopen() {
      await current.close();
      current = await openTpmRootOfTrust(dir, { tpm: testTpm.tpm });
      testTpm.opened.push(current);
      return current;
    },
  };
}

export interface QuoteToCheck {
  /** The identity key's TPM2B_PUBLIC, as the manufacturer's list carries it. */
  readonly tpmPublic: Uint8Array;
  readonly attest: Uint8Array;
  readonly signature: Uint8Array;
  readonly qualifyingData: Uint8Array;
  /** The value PCR 8 must have had: the boot log replayed. */
  readonly pcr8: Uint8Array;
}

/**
 * Runs tpm2_checkquote as a verifier outside the device would: the key from its TPM public
 * area, the qualifying data, and PCR 8 as replayed from the log (a tpm2_pcrread-style value,
 * with its selection given by -l). True if it accepts.
 */
export async function checkQuote(
  directory: string,
  tpm: RunningSwtpm,
  quote: QuoteToCheck,
): Promise<boolean> {
  await writeFile(join(directory, 'identity.tpm.pub'), quote.tpmPublic);
  await writeFile(join(directory, 'quote.msg'), quote.attest);
  await writeFile(join(directory, 'quote.sig'), quote.signature);
  await writeFile(join(directory, 'pcr8.bin'), quote.pcr8);
  const args = ['-u', 'identity.tpm.pub', '-m', 'quote.msg', '-s', 'quote.sig', '-g', 'sha256'];
  args.push('-q', Buffer.from(quote.qualifyingData).toString('hex'), '-f', 'pcr8.bin', '-l', 'sha256:8');
  return tpm2('tpm2_checkquote', args, tpm, directory).then(
    () => true,
    () => false,
  );
}
