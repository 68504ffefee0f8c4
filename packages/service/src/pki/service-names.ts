import { isIP } from 'node:net';
import { ServiceError } from '../errors.ts';

/** Most names the service TLS certificate carries (packages/ca allows 32). */
export const MAX_SERVICE_HOSTNAMES = 32;
const DNS_NAME = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/** The names the device listener's certificate carries, split as subjectAltName needs them. */
export interface ServiceNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * Splits the configured host names into DNS names and IP addresses. Each is checked fully when
 * the certificate is issued (packages/ca); this refuses the obviously wrong at start, with
 * PKI_HOSTNAME_INVALID: none, too many, a repeat, or text that is neither kind.
 */
export function parseServiceHostnames(hostnames: readonly string[]): ServiceNames {
  if (
    hostnames.length === 0 ||
    hostnames.length > MAX_SERVICE_HOSTNAMES ||
    new Set(hostnames).size !== hostnames.length
  ) {
    throw new ServiceError(
      'PKI_HOSTNAME_INVALID',
      `the service TLS certificate needs 1 to ${MAX_SERVICE_HOSTNAMES} different host names`,
    );
  }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of hostnames) {
    if (isIP(name) !== 0) ipAddresses.push(name);
    else if (DNS_NAME.test(name)) dnsNames.push(name);
    else
      throw new ServiceError(
        'PKI_HOSTNAME_INVALID',
        `${JSON.stringify(name)} is not a lowercase DNS name or an IP address`,
      );
  }
  return Object.freeze({ dnsNames: Object.freeze(dnsNames), ipAddresses: Object.freeze(ipAddresses) });
}

/**
 * The names a lab's device listener answers to: localhost on both address families, plus the
 * configured listening host when it is one address rather than every address.
 */
export function defaultServiceHostnames(host: string): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  if (host !== '' && host !== '0.0.0.0' && host !== '::' && !names.includes(host)) names.push(host);
  return names;
}
