import { sequence, setOf, utf8String, type DerNode } from '../der/index.ts';
import { OID } from './oids.ts';

/**
 * `Name ::= SEQUENCE OF RelativeDistinguishedName`, each RDN a SET OF one
 * AttributeTypeAndValue (RFC 5280 4.1.2.4). Values are UTF8Strings, which RFC 5280 lets a
 * conforming CA use for every DirectoryString. `attributes` run most significant first.
 */
export function encodeName(attributes: readonly (readonly [type: Uint8Array, value: string])[]): DerNode {
  return sequence(...attributes.map(([type, value]) => setOf(sequence(type, utf8String(value)))));
}

/** The subject of a device certificate: CN = the device ID, nothing else. */
export function deviceSubjectName(deviceId: string): DerNode {
  return encodeName([[OID.commonName, deviceId]]);
}
