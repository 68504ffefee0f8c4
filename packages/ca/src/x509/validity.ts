import {
  EARLIEST_X509_TIME_MS,
  LATEST_X509_TIME_MS,
  sequence,
  x509Time,
  type DerNode,
} from '../der/index.ts';
import { CaError } from '../errors.ts';

/** A validity period in milliseconds since the Unix epoch, both whole seconds. */
export interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

const MS_PER_SECOND = 1000;

function invalid(reason: string): CaError {
  return new CaError('CA_VALIDITY_INVALID', `validity: ${reason}`);
}

/**
 * Checks a caller's validity period and floors both ends to whole seconds, the resolution of
 * X.509 times (RFC 5280 4.1.2.5). Flooring notAfter can only shorten a certificate's life.
 * The result is what the certificate says, and what issuers return to their caller.
 */
export function wholeSecondValidity(notBefore: unknown, notAfter: unknown): Validity {
  if (!Number.isSafeInteger(notBefore) || !Number.isSafeInteger(notAfter)) {
    throw invalid('notBefore and notAfter are integer millisecond timestamps');
  }
  const floored = {
    notBefore: Math.floor((notBefore as number) / MS_PER_SECOND) * MS_PER_SECOND,
    notAfter: Math.floor((notAfter as number) / MS_PER_SECOND) * MS_PER_SECOND,
  };
  if (floored.notBefore < EARLIEST_X509_TIME_MS || floored.notAfter > LATEST_X509_TIME_MS) {
    throw invalid('times must fall in the years 0000 to 9999');
  }
  if (floored.notAfter <= floored.notBefore)
    throw invalid('notAfter must be at least a second after notBefore');
  return floored;
}

/** `Validity ::= SEQUENCE { notBefore Time, notAfter Time }` (RFC 5280 4.1.2.5). */
export function encodeValidity({ notBefore, notAfter }: Validity): DerNode {
  return sequence(x509Time(notBefore), x509Time(notAfter));
}
