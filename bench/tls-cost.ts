/**
 * The server side of bench/attestation.ts's TLS cases: the device listener (and, for
 * reference, a bare node:tls server with the same key and certificate) in this process, a
 * device in a child process (tls-device-client.ts), and this process's CPU time per
 * connection, read with process.cpuUsage() around each batch of connections.
 */
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { toPem, type TestCertificate } from '@orbis/testkit';
import { attest, issueChallenge } from '../packages/service/src/attestation/attestation.service.ts';
import { createDeviceListener } from '../packages/service/src/device/device-listener.ts';
import type { SoftwareDevice } from '../packages/service/src/testing/software-device.ts';
import type { BackendRun } from './attestation-backend.ts';
import type { TlsClientCommand, TlsClientReport, TlsClientSetup } from './tls-device-client.ts';
import { DeviceConnections } from '../packages/service/src/device/device-connections.ts';

export interface TlsCostRow {
  readonly name: string;
  readonly cpuMicros: number;
  readonly wallMicros: number;
  readonly resumed: number;
  readonly ok: number;
  readonly count: number;
}

export interface TlsCostOptions {
  readonly connections: number;
  readonly rounds: number;
}

const WARM_UP_CONNECTIONS = 100;
const DEVICE_PATH = '/device/v1/whoami';

/** Runs the cases against a server listening on `port`, with the client in a child process. */
async function measureServer(
  setup: TlsClientSetup,
  cases: readonly [TlsClientCommand['kind'], string][],
  options: TlsCostOptions,
): Promise<TlsCostRow[]> {
  const client = fork(
    fileURLToPath(new URL('tls-device-client.ts', import.meta.url)),
    [JSON.stringify(setup)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  let waiting: ((report: TlsClientReport) => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    client.once('exit', (code) => reject(new Error(`the TLS client exited with ${code ?? 'a signal'}`)));
    client.on('message', (message: TlsClientReport | 'ready') => {
      if (message === 'ready') resolve();
      else waiting?.(message);
    });
  });
  const exchange = (command: TlsClientCommand) =>
    new Promise<TlsClientReport>((resolve) => {
      waiting = resolve;
      client.send(command);
    });
  const rows: TlsCostRow[] = [];
  try {
    for (const [kind, name] of cases) {
      // Warm-up, which also leaves the client a session ticket to resume.
      await exchange({ kind, count: WARM_UP_CONNECTIONS });
      const samples: TlsCostRow[] = [];
      for (let round = 0; round < options.rounds; round += 1) {
        const before = process.cpuUsage();
        const report = await exchange({ kind, count: options.connections });
        const used = process.cpuUsage(before);
        samples.push({
          name,
          cpuMicros: (used.user + used.system) / report.count,
          wallMicros: (report.wallMs * 1000) / report.count,
          resumed: report.resumed,
          ok: report.ok,
          count: report.count,
        });
        process.stderr.write('.');
      }
      samples.sort((a, b) => a.cpuMicros - b.cpuMicros);
      rows.push(samples[Math.floor(samples.length / 2)] as TlsCostRow);
    }
  } finally {
    client.removeAllListeners('exit');
    client.kill();
  }
  return rows;
}

/** The device listener, serving a device that attested first and presents its certificate. */
export async function measureListener(
  run: BackendRun,
  device: SoftwareDevice,
  serverTls: TestCertificate,
  options: TlsCostOptions,
): Promise<TlsCostRow[]> {
  const listener = await createDeviceListener(
    {
      logLevel: 'silent',
      tls: {
        key: serverTls.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        cert: serverTls.pem,
      },
    },
    { attestation: run.deps, anchors: run.deps.pki, connections: new DeviceConnections() },
  );
  try {
    await listener.listen({ host: '127.0.0.1', port: 0 });
    const { nonce } = issueChallenge(run.deps, device.deviceId);
    const issued = await attest(run.deps, {
      deviceId: device.deviceId,
      nonce,
      evidence: device.evidence(nonce, Date.now()),
      source: '127.0.0.1',
    });
    const setup: TlsClientSetup = {
      port: (listener.server.address() as { port: number }).port,
      ca: serverTls.pem,
      cert: toPem(Buffer.from(issued.certificate, 'base64')),
      key: device.certificateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      path: DEVICE_PATH,
    };
    return await measureServer(
      setup,
      [
        ['fresh', `device listener: full TLS 1.3 handshake, client certificate, GET ${DEVICE_PATH}`],
        ['resumed', `device listener: resumed TLS 1.3 session (ticket), GET ${DEVICE_PATH}`],
        ['keep-alive', `device listener: GET ${DEVICE_PATH} on a kept-alive connection`],
      ],
      options,
    );
  } finally {
    await listener.close();
  }
}

/**
 * For reference: node:tls alone with the listener's settings (requestCert, no CA list, nothing
 * rejected) and the same certificates, answering every request with a fixed 200. The
 * difference to the listener is what HTTP, Fastify and the device identity check add.
 */
export async function measureBareTls(
  serverTls: TestCertificate,
  clientCertificate: { cert: string; key: string },
  options: TlsCostOptions,
): Promise<TlsCostRow[]> {
  const server: Server = createServer(
    {
      key: serverTls.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      cert: serverTls.pem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}'),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const setup: TlsClientSetup = {
      port: (server.address() as { port: number }).port,
      ca: serverTls.pem,
      ...clientCertificate,
      path: '/',
    };
    return await measureServer(
      setup,
      [
        ['fresh', 'bare node:tls: full TLS 1.3 handshake, client certificate, fixed response'],
        ['resumed', 'bare node:tls: resumed TLS 1.3 session (ticket), fixed response'],
      ],
      options,
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
