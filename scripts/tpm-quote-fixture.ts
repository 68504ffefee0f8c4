/**
 * Regenerates packages/verify/src/attestation/tpm-quote-fixture.json: evidence and a quote made
 * by a real TPM 2.0 implementation (swtpm, driven by tpm2-tools; Debian packages swtpm and
 * tpm2-tools), so that the TPM structure parsers and verifyTpmQuote are tested against what a
 * TPM writes and not only against our own idea of it.
 *
 *   node scripts/tpm-quote-fixture.ts [port]      (swtpm listens on port and port + 1; default 2321)
 *
 * What it does, in a fresh swtpm whose PCRs are at their reset value:
 * 1. tpm2_createprimary -C o -g sha256 -G ecc256; tpm2_create the identity key under it with
 *    -G ecc256:ecdsa-sha256:null -a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign
 *    (the same key the device's TPM backend makes), and tpm2_load it;
 * 2. composes sample EAT claims for that key (a random nonce, a software certificate key) and
 *    signs the JWS with the identity key through a TPM2_Hash ticket (tpm2_hash, tpm2_sign);
 * 3. extends PCR 8 (sha256) with SHA-256 of each boot-log entry's RFC 8785 canonical JSON;
 * 4. tpm2_quote -l sha256:8 with qualifying data SHA-256(nonce ‖ certificate-key SPKI ‖
 *    SHA-256(EAT payload)), writing the TPMS_ATTEST (-m) and the TPMT_SIGNATURE (-s).
 * With no resource manager, every command is followed by `tpm2_flushcontext -t`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  canonicalJsonBytes,
  derToP1363,
  encodeBase64Url,
  parsePublicKeySpki,
  publicKeyFromKeyObject,
} from '@orbis/crypto';
import { sampleAttestationClaims } from '@orbis/testkit';
import { tpmQualifyingData, TPM_MEASUREMENT_PCR } from '@orbis/verify';

const target = new URL('../packages/verify/src/attestation/tpm-quote-fixture.json', import.meta.url);
const port = Number(process.argv[2] ?? '2321');
const tcti = `swtpm:host=127.0.0.1,port=${port}`;
const directory = mkdtempSync(join(tmpdir(), 'orbis-tpm-fixture-'));

function tool(command: string, ...args: string[]): string {
  return execFileSync(command, args, {
    cwd: directory,
    env: { ...process.env, TPM2TOOLS_TCTI: tcti },
    encoding: 'utf8',
  });
}

/** One tpm2-tools command, then the flush that stands in for a resource manager. */
function tpm2(command: string, ...args: string[]): string {
  const output = tool(command, ...args);
  tool('tpm2_flushcontext', '-t');
  return output;
}

const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(directory, name)));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());

const swtpm = spawn(
  'swtpm',
  [
    'socket',
    '--tpm2',
    '--tpmstate',
    `dir=${directory}`,
    '--server',
    `type=tcp,port=${port},bindaddr=127.0.0.1`,
    '--ctrl',
    `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
    '--flags',
    'not-need-init,startup-clear',
  ],
  { stdio: 'inherit' },
);

try {
  for (let attempt = 0; ; attempt += 1) {
    try {
      tool('tpm2_getrandom', '8', '--hex');
      break;
    } catch (error) {
      if (attempt === 50) throw error;
      await sleep(100);
    }
  }

  tpm2('tpm2_createprimary', '-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', 'primary.ctx');
  tpm2(
    'tpm2_create',
    ...['-C', 'primary.ctx', '-G', 'ecc256:ecdsa-sha256:null'],
    ...['-a', 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign'],
    ...['-u', 'id.pub', '-r', 'id.priv'],
  );
  tpm2('tpm2_load', '-C', 'primary.ctx', '-u', 'id.pub', '-r', 'id.priv', '-c', 'key.ctx');
  tpm2('tpm2_readpublic', '-c', 'key.ctx', '-f', 'der', '-o', 'id.der');
  const identityKey = parsePublicKeySpki(read('id.der'));

  const certificateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const nonce = encodeBase64Url(randomBytes(38));
  const iat = Math.floor(Date.now() / 1000);
  const claims = sampleAttestationClaims({ deviceId: identityKey.keyId, nonce, certificateKey, iat });
  const header = encodeBase64Url(Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'eat+jwt' })));
  const payload = new TextEncoder().encode(JSON.stringify(claims));
  const signingInput = `${header}.${encodeBase64Url(payload)}`;
  writeFileSync(join(directory, 'eat.bin'), signingInput);
  tpm2('tpm2_hash', '-C', 'o', '-g', 'sha256', '-t', 'ticket.bin', '-o', 'digest.bin', 'eat.bin');
  tpm2(
    'tpm2_sign',
    ...['-c', 'key.ctx', '-g', 'sha256', '-d', 'digest.bin', '-t', 'ticket.bin'],
    ...['-f', 'plain', '-o', 'eat.sig'],
  );
  const evidence = `${signingInput}.${encodeBase64Url(derToP1363(read('eat.sig')))}`;

  for (const entry of claims.orbis_boot_log) {
    tpm2('tpm2_pcrextend', `${TPM_MEASUREMENT_PCR}:sha256=${hex(sha256(canonicalJsonBytes(entry)))}`);
  }
  const certificatePublic = publicKeyFromKeyObject(certificateKey);
  const qualifyingData = tpmQualifyingData(nonce, certificatePublic, payload);
  tpm2(
    'tpm2_quote',
    ...['-c', 'key.ctx', '-l', `sha256:${TPM_MEASUREMENT_PCR}`, '-q', hex(qualifyingData), '-g', 'sha256'],
    ...['-m', 'quote.msg', '-s', 'quote.sig', '-o', 'quote.pcrs'],
  );
  tool('tpm2_pcrread', `sha256:${TPM_MEASUREMENT_PCR}`, '-o', 'pcr8.bin');

  const fixture = {
    about:
      'Made by scripts/tpm-quote-fixture.ts with swtpm and tpm2-tools: a TPM identity key, evidence it signed through a TPM2_Hash ticket, and its quote of PCR 8. Regenerate with that script; do not edit.',
    tools: `${tool('swtpm', '--version').trim()}; ${tool('tpm2_quote', '--version').trim()}`,
    tpmPublic: encodeBase64Url(read('id.pub')),
    identityKey: encodeBase64Url(identityKey.spki),
    nonce,
    iat,
    certificateKey: encodeBase64Url(certificatePublic.spki),
    eatPayload: encodeBase64Url(payload),
    evidence,
    bootLog: claims.orbis_boot_log,
    pcr8: hex(read('pcr8.bin')),
    attest: encodeBase64Url(read('quote.msg')),
    signature: encodeBase64Url(read('quote.sig')),
  };
  writeFileSync(target, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${target.pathname}`);
} finally {
  swtpm.kill('SIGTERM');
  rmSync(directory, { recursive: true, force: true });
}
