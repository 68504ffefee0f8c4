import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PublicKey } from '@orbis/crypto';
import { startSwtpm, type RunningSwtpm } from './swtpm.ts';
import { tpm2 } from './tpm2-tools.ts';
import { createTpmIdentityKey } from './tpm-identity.ts';
import {
  extendMeasurementPcr,
  quoteMeasurements,
  readMeasurementPcr,
  type MeasurementQuote,
} from './tpm-measurement.ts';

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

/** Measured boot and quotes on a real swtpm started on free ports for these tests. */
describe('TPM measurements and quotes (swtpm)', () => {
  let root = '';
  let tpm: RunningSwtpm;
  let device = '';
  let identity: PublicKey;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'orbis-tpm-quote-'));
    tpm = await startSwtpm(join(root, 'swtpm'));
    device = join(root, 'device');
    identity = await createTpmIdentityKey(device, tpm);
  });

  after(async () => {
    await tpm.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** Runs tpm2_checkquote on `quote` with the identity key and `qualifyingData`; true if it accepts. */
  async function checkQuote(quote: MeasurementQuote, qualifyingData: Uint8Array): Promise<boolean> {
    const pem = createPublicKey({ key: Buffer.from(identity.spki), format: 'der', type: 'spki' }).export({
      format: 'pem',
      type: 'spki',
    });
    await writeFile(join(root, 'identity.pem'), pem);
    await writeFile(join(root, 'quote.msg'), quote.message);
    await writeFile(join(root, 'quote.sig'), quote.signature);
    await writeFile(join(root, 'quote.pcrs'), quote.pcrs);
    const qualifying = Buffer.from(qualifyingData).toString('hex');
    const args = [
      '-u',
      'identity.pem',
      '-m',
      'quote.msg',
      '-s',
      'quote.sig',
      '-f',
      'quote.pcrs',
      '-g',
      'sha256',
      '-q',
      qualifying,
    ];
    return tpm2('tpm2_checkquote', args, tpm, root).then(
      () => true,
      () => false,
    );
  }

  it('extends the measurement PCR as the service replays a boot log: SHA-256(PCR ‖ digest) from zero', async () => {
    const digests = ['bootloader', 'security-monitor', 'os'].map((stage) =>
      sha256(new TextEncoder().encode(stage)),
    );
    for (const digest of digests) await extendMeasurementPcr(tpm, digest, root);
    const replayed = digests.reduce((register, digest) => sha256(register, digest), new Uint8Array(32));
    assert.deepEqual(await readMeasurementPcr(tpm, root), replayed);
  });

  it('produces a quote that tpm2_checkquote accepts under the identity key and the qualifying data', async () => {
    // What the evidence envelope binds: SHA-256(nonce ‖ certificate-key SPKI ‖ SHA-256(EAT payload)).
    const qualifying = sha256(
      new TextEncoder().encode('nonce'),
      identity.spki,
      sha256(new TextEncoder().encode('{}')),
    );
    const quote = await quoteMeasurements(device, tpm, qualifying);
    assert.equal(await checkQuote(quote, qualifying), true);
  });

  it('gives a quote that tpm2_checkquote refuses for other qualifying data (a stale nonce)', async () => {
    const fresh = sha256(new TextEncoder().encode('fresh nonce'));
    const stale = sha256(new TextEncoder().encode('stale nonce'));
    const quote = await quoteMeasurements(device, tpm, stale);
    assert.equal(await checkQuote(quote, fresh), false);
    assert.equal(await checkQuote(quote, stale), true);
  });

  it('gives a quote that tpm2_checkquote refuses once its signature is altered', async () => {
    const qualifying = sha256(new TextEncoder().encode('nonce'));
    const quote = await quoteMeasurements(device, tpm, qualifying);
    const signature = Uint8Array.from(quote.signature);
    signature[signature.byteLength - 1] = (signature.at(-1) ?? 0) ^ 1;
    assert.equal(await checkQuote({ ...quote, signature }, qualifying), false);
  });
});
