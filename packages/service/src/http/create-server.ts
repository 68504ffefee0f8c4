import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { MAX_API_BODY_BYTES } from '@orbis/protocol';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { handleError, handleNotFound } from './error-handler.ts';

/** Paths that must never reach a log: credentials, tokens, nonces and key material. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-orbis-setup-token"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.nonce',
  '*.evidence',
  '*.privateKey',
];

export interface CreateServerOptions {
  readonly logLevel: string;
  /** HTTPS options for the device listener; absent for the plain-HTTP API listener. */
  readonly https?: HttpsServerOptions;
  /** Largest request body, in bytes; MAX_API_BODY_BYTES unless a listener needs less. */
  readonly bodyLimit?: number;
  /** Where logs go; standard error by default (tests capture them). */
  readonly logStream?: { write(line: string): void };
}

/**
 * A Fastify instance with Orbis's defaults: request IDs generated here (a client's header is
 * never trusted as one), logs with secrets redacted, bounded bodies, and Ajv set to refuse —
 * not strip or coerce — unknown fields and wrong types.
 */
export function createServer(options: CreateServerOptions): FastifyInstance {
  const serverOptions: FastifyServerOptions = {
    // Logs go to standard error: standard output belongs to the CLI that may embed the service.
    logger: {
      level: options.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      stream: options.logStream ?? process.stderr,
    },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: options.bodyLimit ?? MAX_API_BODY_BYTES,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    return503OnClosing: true,
  };
  const app = (
    options.https
      ? Fastify({ ...serverOptions, https: options.https } as FastifyServerOptions)
      : Fastify(serverOptions)
  ) as FastifyInstance;
  // JSON only, unless a route adds a parser of its own (image uploads): a text/plain body would
  // otherwise reach schema validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  return app;
}
