import type { FastifyInstance } from 'fastify';
import { MAX_EVIDENCE_BYTES } from '@orbis/protocol';
import { createServer } from '../http/create-server.ts';
import { startPeriodicTask } from '../pki/periodic-task.ts';
import { registerDeviceProtocolRoutes, type DeviceRouteDeps } from './device.routes.ts';

export interface DeviceListenerOptions {
  readonly logLevel: string;
  /** The service's TLS certificate chain and key, PEM (issued under the platform root). */
  readonly tls: { readonly key: string; readonly cert: string };
  /** How often to close connections of devices another replica blocked (DEVICE_CONNECTION_SWEEP_MS). */
  readonly sweepIntervalMs?: number;
}

/** How often the listener looks for devices blocked elsewhere while connected here, in ms. */
export const DEVICE_CONNECTION_SWEEP_MS = 30_000;

/**
 * The device listener: HTTPS that requests a client certificate but sends no CA list and
 * rejects nothing in TLS itself (a first attestation has no certificate yet). Routes verify
 * the presented chain themselves (device-identity.ts), so no trust store of every tenant's
 * anchors exists anywhere.
 */
export async function createDeviceListener(
  options: DeviceListenerOptions,
  deps: DeviceRouteDeps,
): Promise<FastifyInstance> {
  const app = createServer({
    logLevel: options.logLevel,
    bodyLimit: MAX_EVIDENCE_BYTES + 4096,
    https: { key: options.tls.key, cert: options.tls.cert, requestCert: true, rejectUnauthorized: false },
  });
  registerDeviceProtocolRoutes(app, deps);
  // Blocking a device in this process closes its connections at once; a change made by
  // another replica is found here within one sweep interval (each request checks anyway).
  const sweep = startPeriodicTask(
    async () => {
      const closed = await deps.connections.sweep(deps.attestation.db);
      if (closed > 0) app.log.info({ closed }, 'closed connections of disabled or quarantined devices');
    },
    {
      intervalMs: options.sweepIntervalMs ?? DEVICE_CONNECTION_SWEEP_MS,
      onError: (error) => app.log.error({ err: error }, 'the device connection sweep failed'),
    },
  );
  app.addHook('onClose', async () => {
    await sweep.stop();
  });
  await app.ready();
  return app;
}
