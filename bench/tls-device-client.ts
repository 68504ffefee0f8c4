/**
 * The device side of bench/attestation.ts's TLS cases, run in a child process so that its CPU
 * time is not counted with the listener's. It waits for commands over the IPC channel, runs
 * that many connections one after another, and answers when done:
 *
 * - `fresh`: a full TLS 1.3 handshake presenting the client certificate, one GET, close;
 * - `resumed`: the same, resuming with the newest session ticket the server sent;
 * - `keep-alive`: GETs on one connection that stays open (no handshake per request).
 */
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface TlsClientSetup {
  readonly port: number;
  /** PEM of the server certificate, the only one trusted. */
  readonly ca: string;
  /** PEM of the device certificate and its PKCS#8 key. */
  readonly cert: string;
  readonly key: string;
  readonly path: string;
}

export interface TlsClientCommand {
  readonly kind: 'fresh' | 'resumed' | 'keep-alive';
  readonly count: number;
}

export interface TlsClientReport {
  readonly kind: TlsClientCommand['kind'];
  readonly count: number;
  /** Connections that resumed a session; requests answered 200. */
  readonly resumed: number;
  readonly ok: number;
  readonly wallMs: number;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as TlsClientSetup;
const tlsOptions: ConnectionOptions = {
  host: '127.0.0.1',
  port: setup.port,
  servername: 'localhost',
  ca: setup.ca,
  cert: setup.cert,
  key: setup.key,
  minVersion: 'TLSv1.3',
};
const request = (close: boolean) =>
  `GET ${setup.path} HTTP/1.1\r\nhost: localhost\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
let session: Buffer | undefined;

/** One connection, one request with `connection: close`; resolves with the status and resumption. */
function oneConnection(resume: boolean): Promise<{ status: number; resumed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(resume && session !== undefined ? { ...tlsOptions, session } : tlsOptions);
    const chunks: Buffer[] = [];
    socket.on('session', (ticket: Buffer) => {
      session = ticket;
    });
    socket.once('secureConnect', () => socket.write(request(true)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        resumed: socket.isSessionReused(),
      });
      socket.end();
    });
  });
}

/** Requests on one kept-alive connection; each response is read by its content-length. */
async function keepAlive(count: number): Promise<number> {
  const socket: TLSSocket = connect(tlsOptions);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiting?.();
  });
  let ok = 0;
  for (let index = 0; index < count; index += 1) {
    socket.write(request(false));
    for (;;) {
      const text = buffered.toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? -1);
      if (headerEnd >= 0 && length >= 0 && buffered.byteLength >= headerEnd + 4 + length) {
        if (text.startsWith('HTTP/1.1 200')) ok += 1;
        buffered = buffered.subarray(headerEnd + 4 + length);
        break;
      }
      await new Promise<void>((resolve) => (waiting = resolve));
    }
  }
  socket.end();
  return ok;
}

async function run(command: TlsClientCommand): Promise<TlsClientReport> {
  const start = performance.now();
  let ok = 0;
  let resumed = 0;
  if (command.kind === 'keep-alive') {
    ok = await keepAlive(command.count);
  } else {
    for (let index = 0; index < command.count; index += 1) {
      const result = await oneConnection(command.kind === 'resumed');
      if (result.status === 200) ok += 1;
      if (result.resumed) resumed += 1;
    }
  }
  return { kind: command.kind, count: command.count, resumed, ok, wallMs: performance.now() - start };
}

process.on('message', (command: TlsClientCommand) => {
  void run(command).then(
    (report) => process.send?.(report),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
process.send?.('ready');
