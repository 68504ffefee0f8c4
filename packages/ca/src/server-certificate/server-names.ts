import { encodingError } from '../der/tlv.ts';

/**
 * The names a TLS server certificate carries in subjectAltName (RFC 5280 4.2.1.6): DNS names
 * in the preferred name syntax and IP addresses as their 4 or 16 network-order octets. Each
 * is checked strictly, in the one form a client compares against, and anything else is
 * CA_ENCODING_INVALID: the SAN type cannot hold it.
 */

/** RFC 1035 2.3.4: at most 253 characters written out, 63 per label. */
export const MAX_DNS_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** Lowercase letters, digits and inner hyphens (RFC 1123 2.1 allows a leading digit). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const IPV4_OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const IPV6_GROUPS = 8;

/**
 * A dNSName, lowercase (clients compare case-insensitively; one spelling keeps certificates
 * comparable), without wildcards or a trailing dot. A name whose last label is all digits is
 * refused: it is an IPv4 address written as a DNS name, which belongs in iPAddress.
 */
export function checkDnsName(name: string): string {
  if (typeof name !== 'string') throw encodingError('a DNS name is a string');
  const labels = name.split('.');
  const last = labels.at(-1) ?? '';
  if (
    name.length > MAX_DNS_NAME_LENGTH ||
    !labels.every((label) => label.length <= MAX_LABEL_LENGTH && LABEL.test(label)) ||
    /^[0-9]+$/.test(last)
  ) {
    throw encodingError(`${JSON.stringify(name)} is not a lowercase DNS name (letters, digits, hyphens)`);
  }
  return name;
}

function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => IPV4_OCTET.test(part))) return undefined;
  return parts.map(Number);
}

/** The 16-bit groups of one side of an IPv6 address; an IPv4 tail (RFC 4291 2.2 form 3) counts as two. */
function ipv6Groups(text: string, mayEndInIpv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    const v4 = mayEndInIpv4 && index === parts.length - 1 ? ipv4Octets(part) : undefined;
    if (v4 !== undefined) {
      groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    } else if (IPV6_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** RFC 4291 2.2: eight groups, or fewer around one `::`. No zone index (it names a local interface). */
function ipv6Octets(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Groups(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? ipv6Groups(halves[1] as string, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = IPV6_GROUPS - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const octets = new Uint8Array(IPV6_GROUPS * 2);
  for (const [index, group] of groups.entries()) {
    octets[index * 2] = group >> 8;
    octets[index * 2 + 1] = group & 0xff;
  }
  return octets;
}

/** An iPAddress's octets (RFC 5280 4.2.1.6: four for IPv4, sixteen for IPv6, network order). */
export function ipAddressOctets(text: string): Uint8Array {
  if (typeof text !== 'string') throw encodingError('an IP address is a string');
  const v4 = ipv4Octets(text);
  const octets = v4 === undefined ? ipv6Octets(text) : Uint8Array.from(v4);
  if (octets === undefined) {
    throw encodingError(
      `${JSON.stringify(text)} is not an IPv4 address in dotted decimal or an IPv6 address`,
    );
  }
  return octets;
}
