import { ALLOWED_HOST_PATTERN, MAX_ALLOWED_HOST_CHARS } from '@orbis/protocol';

const hostPattern = new RegExp(ALLOWED_HOST_PATTERN);
const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
/** A name whose last label is all digits. */
const NUMERIC_LAST_LABEL = /(^|\.)[0-9]+$/;

/** A dotted-decimal IPv4 address: four octets 0 to 255 without leading zeros (RFC 6943 3.1.1). */
function isIpv4(labels: readonly string[]): boolean {
  return labels.length === 4 && labels.every((label) => IPV4_OCTET.test(label) && Number(label) <= 255);
}

/**
 * What is wrong with `value` as an AllowedConnections entry, or undefined if nothing is. Beyond
 * the schema's pattern: a name whose last label is all digits must be an IPv4 address (a
 * top-level domain is never numeric, RFC 3696 section 2), an address takes no wildcard, and a
 * wildcard must cover a registrable-looking domain of two or more labels, never all of a
 * top-level domain such as `*.com`.
 */
export function allowedHostProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a host is a string';
  if (value.length > MAX_ALLOWED_HOST_CHARS) return `a host has at most ${MAX_ALLOWED_HOST_CHARS} characters`;
  if (!hostPattern.test(value)) {
    return 'a host is a DNS name or an IPv4 address, with no scheme, port, path or IPv6';
  }
  const wildcard = value.startsWith('*.');
  const labels = (wildcard ? value.slice(2) : value).split('.');
  if (NUMERIC_LAST_LABEL.test(value)) {
    if (!isIpv4(labels)) return 'an IP address is four dotted-decimal octets from 0 to 255';
    if (wildcard) return 'an IP address takes no wildcard';
  }
  if (wildcard && labels.length < 2) return 'a wildcard covers a domain of two or more labels';
  return undefined;
}
