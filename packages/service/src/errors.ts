import { OrbisError } from '@orbis/protocol';

/**
 * Errors the service raises itself. Any catalogued code may be used; the error handler
 * (http/error-handler.ts) turns the code into the HTTP status the catalogue names.
 */
export class ServiceError extends OrbisError {}
