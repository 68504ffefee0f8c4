import { decodeOid, decodePrintable, decodeUtf8, malformed, readerOf, TAG, type DerElement } from './der.ts';
import { OID } from './oids.ts';

/** One AttributeTypeAndValue of a name: its type OID, and its value's tag and raw contents. */
export interface NameAttribute {
  readonly type: string;
  readonly tag: number;
  readonly value: Uint8Array;
}

/**
 * An X.501 Name (RFC 5280 section 4.1.2.4). Names are compared as DER bytes, never as text, so
 * `der` is what issuer/subject chaining uses; `commonName` is for profile checks.
 */
export interface DistinguishedName {
  readonly der: Uint8Array;
  /** The relative distinguished names in order, each a non-empty set of attributes. */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /**
   * The common name when the name holds exactly one, as UTF8String or PrintableString;
   * undefined when it holds none, several, or one in another string type.
   */
  readonly commonName: string | undefined;
}

function readAttribute(element: DerElement): NameAttribute {
  const reader = readerOf(element, 'a name attribute');
  const type = decodeOid(reader.expect(TAG.oid, 'an attribute type'), 'an attribute type');
  const value = reader.next('an attribute value');
  reader.end();
  return { type, tag: value.tag, value: value.content };
}

function decodeCommonName(attributes: readonly NameAttribute[]): string | undefined {
  const names = attributes.filter((attribute) => attribute.type === OID.commonName);
  if (names.length !== 1) return undefined;
  const { tag, value } = names[0] as NameAttribute;
  if (tag === TAG.utf8String) return decodeUtf8(value, 'the common name');
  if (tag === TAG.printableString) return decodePrintable(value, 'the common name');
  return undefined;
}

/** Name ::= SEQUENCE OF SET SIZE (1..MAX) OF AttributeTypeAndValue. An empty name is allowed. */
export function parseName(element: DerElement, what: string): DistinguishedName {
  const reader = readerOf(element, what);
  const rdns: NameAttribute[][] = [];
  while (!reader.done) {
    const set = readerOf(reader.expect(TAG.set, `a relative name in ${what}`), what);
    const rdn: NameAttribute[] = [];
    while (!set.done) rdn.push(readAttribute(set.expect(TAG.sequence, `an attribute in ${what}`)));
    if (rdn.length === 0) throw malformed(`${what} has an empty relative name`);
    rdns.push(rdn);
  }
  return { der: element.der, rdns, commonName: decodeCommonName(rdns.flat()) };
}
