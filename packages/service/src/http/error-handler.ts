import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, OrbisError, type ErrorCode, type ErrorEnvelope } from '@orbis/protocol';

/**
 * The one place errors become HTTP responses. Catalogued errors keep their code and message;
 * validation and body-size failures get REQUEST_* codes; anything else is a bare 500 with the
 * request ID to quote, its detail only in the log.
 */
function classify(error: FastifyError | OrbisError): { code: ErrorCode; message: string } {
  if (error instanceof OrbisError) return { code: error.code, message: error.message };
  if (error.validation) return { code: 'REQUEST_INVALID', message: error.message };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'REQUEST_TOO_LARGE', message: 'request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' };
    default:
      break;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { code: 'REQUEST_INVALID', message: 'malformed request' };
  return { code: 'INTERNAL', message: 'unexpected failure; quote the request ID when reporting it' };
}

export function handleError(
  error: FastifyError | OrbisError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { code, message } = classify(error);
  const status = ERROR_CATALOGUE[code].status;
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code }, 'request refused');
  const body: ErrorEnvelope = { code, message, requestId: request.id };
  void reply.status(status).send(body);
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorEnvelope = { code: 'NOT_FOUND', message: 'no such route', requestId: request.id };
  void reply.status(404).send(body);
}
