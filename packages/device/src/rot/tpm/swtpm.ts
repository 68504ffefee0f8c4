import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { RootOfTrustError } from '../../errors.ts';
import type { TpmConnection } from './tpm2-tools.ts';

/** How long swtpm may take to listen, in ms. */
const STARTUP_TIMEOUT_MS = 10_000;

export interface RunningSwtpm extends TpmConnection {
  readonly port: number;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port P with P + 1 also free (a few tries). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort();
    if (port < 65_535 && (await isFree(port + 1))) return port;
  }
  throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'no two adjacent free ports for swtpm');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts swtpm (a TPM 2.0 simulator whose state is files in `stateDirectory`) on free ports of
 * 127.0.0.1, already powered on and started up, for tests, labs and devices without a TPM.
 * swtpm gives a TPM's interface and none of its protection (docs/threat-model.md).
 */
export async function startSwtpm(stateDirectory: string): Promise<RunningSwtpm> {
  await mkdir(stateDirectory, { recursive: true, mode: 0o700 });
  // tpm2-tools' swtpm TCTI finds the control channel at the next port up.
  const port = await freePortPair();
  const controlPort = port + 1;
  const child = spawn(
    'swtpm',
    [
      'socket',
      '--tpm2',
      '--tpmstate',
      `dir=${stateDirectory}`,
      '--server',
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${controlPort},bindaddr=127.0.0.1`,
      '--flags',
      'not-need-init,startup-clear',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (cause) =>
      reject(
        new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'swtpm cannot be started (is it installed?)', { cause }),
      ),
    );
    child.once('exit', (code) =>
      reject(
        new RootOfTrustError('ROT_TPM_UNAVAILABLE', `swtpm exited with ${String(code)}: ${stderr.trim()}`),
      ),
    );
  });
  const ready = (async () => {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!(await listening(port))) {
      if (Date.now() > deadline)
        throw new RootOfTrustError('ROT_TPM_UNAVAILABLE', 'swtpm did not start listening');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  failed.catch(() => undefined);
  return {
    port,
    tcti: `swtpm:host=127.0.0.1,port=${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}
