import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { encodePem } from '@orbis/crypto';
import { OrbisError } from '@orbis/protocol';
import type { RootOfTrust } from '../rot/root-of-trust.ts';
import { attestOnce, renewalTime, retryDelay, type HeldCertificate } from './attestation-client.ts';
import { readHeldCertificate, writeHeldCertificate } from './device-directory.ts';
import { createServiceClient, type ServiceClient } from './service-client.ts';
import { ServiceRefusalError } from '../errors.ts';

/** What a running device reports, for `orbis device run` to print and tests to watch. */
export type AgentEvent =
  | { readonly kind: 'attested'; readonly certificate: HeldCertificate; readonly renewal: boolean }
  | { readonly kind: 'retrying'; readonly attempt: number; readonly delayMs: number; readonly code: string }
  | { readonly kind: 'renewal-scheduled'; readonly at: number };

export interface DeviceAgentOptions {
  readonly dir: string;
  readonly root: RootOfTrust;
  readonly serviceUrl: string;
  /** PEM of the platform root written at manufacture. */
  readonly platformRootPem: string;
  readonly now?: () => number;
  /** A uniform random number in [0, 1), for the jitter of retries. */
  readonly unitRandom?: () => number;
  readonly onEvent?: (event: AgentEvent) => void;
  /** Stops the agent between attestations (the device shuts down). */
  readonly signal?: AbortSignal;
}

/** Code for an error the retry loop reports: the service's own code for refusals. */
function codeOf(error: unknown): string {
  if (error instanceof ServiceRefusalError) return error.serviceCode;
  if (error instanceof OrbisError) return (error as OrbisError).code;
  return 'UNEXPECTED';
}

/**
 * Keeps the device's certificate fresh (ARCHITECTURE.md, Attestation step 6): attests at boot,
 * renews two thirds into each certificate's lifetime and at least every 24 hours, over the
 * mTLS connection of the current certificate, and retries with exponential backoff and jitter
 * while the service is unreachable or refuses. Resolves when `signal` aborts.
 */
export async function runAttestationLoop(options: DeviceAgentOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const unit = options.unitRandom ?? (() => randomBytes(4).readUInt32BE(0) / 2 ** 32);
  const emit = options.onEvent ?? (() => {});
  let held = await readHeldCertificate(options.dir);
  let client: ServiceClient | undefined;
  let attempt = 0;
  try {
    // Every boot re-attests; a certificate still valid from before opens the mTLS connection.
    let renewal = held !== undefined && held.notAfter > now();
    while (options.signal?.aborted !== true) {
      try {
        client ??= await connect(options, renewal ? held : undefined);
        const certificate = await attestOnce(options.root, client, { nowMs: now(), capabilities: [] });
        await writeHeldCertificate(options.dir, certificate);
        held = certificate;
        attempt = 0;
        emit({ kind: 'attested', certificate, renewal });
        // The next renewal runs over a connection that presents the new certificate.
        client.close();
        client = undefined;
        renewal = true;
        const at = renewalTime(certificate);
        emit({ kind: 'renewal-scheduled', at });
        await pause(Math.max(0, at - now()), options.signal);
      } catch (error) {
        if (!(error instanceof OrbisError)) throw error;
        client?.close();
        client = undefined;
        // A certificate that has expired (or that the service no longer accepts) cannot open
        // the next connection: fall back to a first attestation.
        renewal = held !== undefined && held.notAfter > now() && !(error instanceof ServiceRefusalError);
        const delayMs = retryDelay(attempt, unit());
        attempt += 1;
        emit({ kind: 'retrying', attempt, delayMs, code: codeOf(error) });
        await pause(delayMs, options.signal);
      }
    }
  } finally {
    client?.close();
  }
}

async function connect(
  options: DeviceAgentOptions,
  held: HeldCertificate | undefined,
): Promise<ServiceClient> {
  const base = { serviceUrl: options.serviceUrl, platformRootPem: options.platformRootPem };
  if (held === undefined) return createServiceClient(base);
  const certificatePem = encodePem(new Uint8Array(Buffer.from(held.certificate, 'base64')));
  return createServiceClient({
    ...base,
    identity: { certificatePem, key: await options.root.certificateTlsKey() },
  });
}

/** Waits `ms`, or until `signal` aborts (then returns at once). */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    if (!(signal?.aborted ?? false)) throw error;
  }
}
