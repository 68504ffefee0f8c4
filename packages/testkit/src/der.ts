/**
 * A tiny DER reader for tests, written separately from the strict reader in packages/ca so
 * tests of the writer do not only agree with themselves. It trusts its input's shape: use it
 * to look inside bytes, never to decide whether to trust them.
 */

export interface DerNode {
  readonly tag: number;
  /** The whole element, header included. */
  readonly encoded: Uint8Array;
  readonly contents: Uint8Array;
  /** For constructed elements, what they contain; empty for primitive ones. */
  readonly children: readonly DerNode[];
}

function readAt(bytes: Uint8Array, offset: number): DerNode {
  const tag = bytes[offset] ?? -1;
  let length = bytes[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let index = 0; index < octets; index += 1) length = length * 256 + (bytes[start + index] ?? 0);
    start += octets;
  }
  if (tag < 0 || start + length > bytes.byteLength) throw new Error(`DER: element at ${offset} is truncated`);
  const contents = bytes.subarray(start, start + length);
  const children: DerNode[] = [];
  if (tag & 0x20) {
    for (let at = 0; at < contents.byteLength;) {
      const child = readAt(contents, at);
      children.push(child);
      at += child.encoded.byteLength;
    }
  }
  return { tag, encoded: bytes.subarray(offset, start + length), contents, children };
}

/** Reads `bytes` as one element (and everything inside it); throws if bytes are left over. */
export function readDer(bytes: Uint8Array): DerNode {
  const node = readAt(bytes, 0);
  if (node.encoded.byteLength !== bytes.byteLength) throw new Error('DER: bytes after the element');
  return node;
}

/** The `index`th child, or an error naming what was expected. */
export function child(node: DerNode, index: number): DerNode {
  const found = node.children[index];
  if (found === undefined) throw new Error(`DER: no child ${index} in tag 0x${node.tag.toString(16)}`);
  return found;
}

/** Dotted decimal from OBJECT IDENTIFIER contents (X.690 8.19), arcs of any size. */
export function decodeOid(contents: Uint8Array): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const octet of contents) {
    value = (value << 7n) | BigInt(octet & 0x7f);
    if ((octet & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [first = 0n, ...rest] = arcs;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...rest].join('.');
}

/** The contents of a string element as text (UTF-8, which covers IA5, Printable and UTC times). */
export function derText(node: DerNode): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(node.contents);
}
