import { Agent } from 'node:https';
import { sendJson } from '@orbis/device';
import type { KeyObject } from 'node:crypto';

/**
 * Test-only: a device's HTTPS client. It trusts only the given server certificate, may present
 * a client certificate, and keeps one connection alive, as a device does for a certificate's
 * lifetime.
 */
export interface DeviceClientOptions {
  readonly port: number;
  /** PEM the client trusts for the server (the platform root, in production). */
  readonly ca: string;
  /** PEM chain and key for mTLS; absent for a first attestation. */
  readonly certificate?: string;
  readonly key?: KeyObject;
}

export interface DeviceResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface DeviceClient {
  call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<DeviceResponse>;
  /** Resolves when the kept-alive connection closes (whichever side closes it). */
  connectionClosed(): Promise<void>;
  close(): void;
}

export function createDeviceClient(options: DeviceClientOptions): DeviceClient {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: options.ca,
    ...(options.certificate === undefined ? {} : { cert: options.certificate }),
    ...(options.key === undefined ? {} : { key: options.key.export({ format: 'pem', type: 'pkcs8' }) }),
  });
  const target = new URL(`https://127.0.0.1:${options.port}`);
  return {
    // The device runtime's own request code; answers of any status come back as they are.
    async call(method, path, payload) {
      const { status, body } = await sendJson(agent, target, method, path, payload);
      return { status, body: body as Record<string, unknown> };
    },
    connectionClosed() {
      const sockets = [...Object.values(agent.freeSockets), ...Object.values(agent.sockets)].flat();
      const [socket] = sockets;
      if (socket === undefined || socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => socket.once('close', () => resolve()));
    },
    close: () => agent.destroy(),
  };
}
