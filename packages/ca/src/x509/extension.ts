import { boolean, container, sequence, TAG, type Der, type DerNode } from '../der/index.ts';

/**
 * `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`
 * (RFC 5280 4.1). DER leaves a DEFAULT value out (X.690 11.5), so `critical` is written only
 * when true. `value` is the DER of the extension's own ASN.1 value.
 */
export function extension(oid: Uint8Array, critical: boolean, value: Der): DerNode {
  const extnValue = container(TAG.OCTET_STRING, [value]);
  return critical ? sequence(oid, boolean(true), extnValue) : sequence(oid, extnValue);
}
