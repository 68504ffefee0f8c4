import { Agent, request } from 'node:https';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { isErrorCode } from '@orbis/protocol';
import { AgentError, ServiceRefusalError } from '../errors.ts';

/** How long one request to the service may take before the device gives up on it, in ms. */
export const SERVICE_REQUEST_TIMEOUT_MS = 15_000;
/** Largest response body the device reads, in bytes (a certificate, anchors and a little JSON). */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** The device's TLS identity for mTLS: its current certificate (PEM) and the key it certifies. */
export interface ClientIdentity {
  readonly certificatePem: string;
  readonly key: KeyObject;
}

export interface ServiceClientOptions {
  /** The device listener, e.g. https://orbis.example:8443. */
  readonly serviceUrl: string;
  /** PEM of the platform root written at manufacture: the only CA trusted for the service. */
  readonly platformRootPem: string;
  /** Absent for a first attestation; renewals and device routes use the current certificate. */
  readonly identity?: ClientIdentity;
}

/**
 * The device's connection to the security service: HTTPS pinned to the platform root, one
 * kept-alive connection (ARCHITECTURE.md: one connection per certificate lifetime), JSON in and
 * out. A transport failure is AGENT_SERVICE_UNREACHABLE; a refusal carries the service's own
 * error code in AGENT_ATTESTATION_REFUSED.
 */
export interface ServiceClient {
  post<T>(path: string, body: unknown): Promise<T>;
  get<T>(path: string): Promise<T>;
  close(): void;
}

/** An HTTP status and the parsed JSON body. */
export interface ServiceReply {
  readonly status: number;
  readonly body: unknown;
}

export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const url = new URL(options.serviceUrl);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: options.platformRootPem,
    ...(options.identity === undefined
      ? {}
      : {
          cert: options.identity.certificatePem,
          key: options.identity.key.export({ format: 'pem', type: 'pkcs8' }) as string,
        }),
  });

  async function call<T>(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<T> {
    const reply = await sendJson(agent, url, method, path, payload);
    if (reply.status >= 200 && reply.status < 300) return reply.body as T;
    throw refusal(path, reply);
  }

  return {
    post: (path, body) => call('POST', path, body),
    get: (path) => call('GET', path),
    close: () => agent.destroy(),
  };
}

/**
 * One JSON request over `agent` (its TLS settings: the pinned CA and any client certificate) to
 * `target`'s host and port; bounded in time and size. Transport failures are
 * AGENT_SERVICE_UNREACHABLE; any HTTP status is returned as it came.
 */
export function sendJson(
  agent: Agent,
  target: URL,
  method: 'GET' | 'POST',
  path: string,
  payload?: unknown,
): Promise<ServiceReply> {
  return new Promise((resolve, reject) => {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const outgoing = request(
      {
        host: target.hostname,
        port: target.port === '' ? 443 : Number(target.port),
        // SNI names a host, never an address (RFC 6066 section 3).
        ...(isIP(target.hostname) === 0 ? { servername: target.hostname } : {}),
        method,
        path,
        agent,
        timeout: SERVICE_REQUEST_TIMEOUT_MS,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > MAX_RESPONSE_BYTES) response.destroy(new Error('response too large'));
          else chunks.push(chunk);
        });
        response.on('error', (cause) => reject(unreachable(path, cause)));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: response.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) });
          } catch (cause) {
            reject(unreachable(path, cause));
          }
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.on('error', (cause) => reject(unreachable(path, cause)));
    outgoing.end(body);
  });
}

function unreachable(path: string, cause: unknown): AgentError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AgentError('AGENT_SERVICE_UNREACHABLE', `${path}: ${reason}`, { cause });
}

function refusal(path: string, reply: ServiceReply): AgentError {
  const envelope = reply.body as { code?: unknown; message?: unknown } | undefined;
  const code = isErrorCode(envelope?.code) ? envelope.code : `HTTP_${reply.status}`;
  const message = typeof envelope?.message === 'string' ? envelope.message : 'no detail';
  // 5xx answers are the service's trouble, not a verdict on the device: retried like an outage.
  if (reply.status >= 500) return new AgentError('AGENT_SERVICE_UNREACHABLE', `${path}: ${code}: ${message}`);
  return new ServiceRefusalError(code, `${message} (${path}, HTTP ${reply.status})`);
}
