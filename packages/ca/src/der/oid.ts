import { encodingError, TAG, tlv } from './tlv.ts';

/** Longest dotted OID accepted, in characters: a 2.25.<UUID> arc is 43, Orbis's longest ~50. */
export const MAX_OID_TEXT_LENGTH = 256;
const ARC = /^(0|[1-9][0-9]*)$/;

/** Base-128, most significant group first, the high bit set on all but the last (X.690 8.19.2). */
function subidentifier(value: bigint): number[] {
  const groups = [Number(value & 0x7fn)];
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
  return groups;
}

/**
 * The contents octets of an OBJECT IDENTIFIER written in dotted decimal. Arcs are BigInts, so
 * UUID-derived arcs (ITU-T X.667: `2.25.` and a 128-bit integer) encode exactly. The first two
 * arcs share one subidentifier, 40 × first + second (X.690 8.19.4), and the second is below 40
 * unless the first is 2. Orbis encodes its OIDs once, at load time, so this need not be fast.
 */
export function oidContents(dotted: string): Uint8Array {
  if (dotted.length > MAX_OID_TEXT_LENGTH) throw encodingError('OID text too long');
  const parts = dotted.split('.');
  if (parts.length < 2 || !parts.every((part) => ARC.test(part))) {
    throw encodingError(`"${dotted}" is not a dotted-decimal OID`);
  }
  const arcs = parts.map((part) => BigInt(part));
  const [first, second] = arcs as [bigint, bigint];
  if (first > 2n || (first < 2n && second >= 40n)) {
    throw encodingError(`"${dotted}" does not start with 0.0-39, 1.0-39 or 2.x`);
  }
  const octets = subidentifier(first * 40n + second);
  for (const arc of arcs.slice(2)) octets.push(...subidentifier(arc));
  return Uint8Array.from(octets);
}

export function objectIdentifier(dotted: string): Uint8Array {
  return tlv(TAG.OBJECT_IDENTIFIER, oidContents(dotted));
}
