import type { FastifyInstance } from 'fastify';
import { MAX_EVIDENCE_BYTES } from '@orbis/protocol';
import { createServer } from '../http/create-server.ts';
import { registerDeviceProtocolRoutes, type DeviceRouteDeps } from './device.routes.ts';

export interface DeviceListenerOptions {
  readonly logLevel: string;
  /** The service's TLS certificate chain and key, PEM (issued under the platform root). */
  readonly tls: { readonly key: string; readonly cert: string };
}

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
  await app.ready();
  return app;
}
