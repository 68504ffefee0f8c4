import { child, decodeOid, derText, readDer, type DerNode } from './der.ts';

/** A certificate laid out field by field (RFC 5280 4.1), for tests to assert on. */
export interface CertificateView {
  /** The TBSCertificate, encoded: what the signature covers. */
  readonly tbs: Uint8Array;
  /** 2 for X.509 v3. */
  readonly version: number;
  /** The serial number's INTEGER contents octets. */
  readonly serialNumber: Uint8Array;
  /** The AlgorithmIdentifier inside the TBSCertificate and the one outside it, encoded. */
  readonly signatureAlgorithm: {
    readonly inner: Uint8Array;
    readonly outer: Uint8Array;
    readonly oid: string;
  };
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** The subject's attributes: type OID, string tag and value, in order. */
  readonly subjectAttributes: readonly {
    readonly oid: string;
    readonly tag: number;
    readonly value: string;
  }[];
  readonly notBefore: { readonly tag: number; readonly text: string };
  readonly notAfter: { readonly tag: number; readonly text: string };
  readonly subjectPublicKeyInfo: Uint8Array;
  readonly extensions: readonly ExtensionView[];
  /** The signatureValue BIT STRING's contents, unused-bits octet included. */
  readonly signatureValue: Uint8Array;
}

export interface ExtensionView {
  readonly oid: string;
  readonly critical: boolean;
  /** extnValue's contents: the DER of the extension's value. */
  readonly value: Uint8Array;
  readonly parsed: DerNode;
}

function readExtensions(tbs: DerNode): ExtensionView[] {
  const wrapper = tbs.children.find((node) => node.tag === 0xa3);
  if (wrapper === undefined) return [];
  return child(wrapper, 0).children.map((extension) => {
    const last = child(extension, extension.children.length - 1);
    return {
      oid: decodeOid(child(extension, 0).contents),
      critical: extension.children.length === 3 && child(extension, 1).contents[0] === 0xff,
      value: last.contents,
      parsed: readDer(last.contents),
    };
  });
}

/** Lays out a DER certificate. Throws on bytes that are not shaped like one. */
export function readCertificate(der: Uint8Array): CertificateView {
  const certificate = readDer(der);
  const tbs = child(certificate, 0);
  const hasVersion = child(tbs, 0).tag === 0xa0;
  const field = (index: number) => child(tbs, index + (hasVersion ? 1 : 0));
  const validity = field(3);
  const time = (node: DerNode) => ({ tag: node.tag, text: derText(node) });
  return {
    tbs: tbs.encoded,
    version: hasVersion ? (child(child(tbs, 0), 0).contents[0] ?? -1) : 0,
    serialNumber: field(0).contents,
    signatureAlgorithm: {
      inner: field(1).encoded,
      outer: child(certificate, 1).encoded,
      oid: decodeOid(child(field(1), 0).contents),
    },
    issuer: field(2).encoded,
    subject: field(4).encoded,
    subjectAttributes: field(4).children.flatMap((rdn) =>
      rdn.children.map((attribute) => ({
        oid: decodeOid(child(attribute, 0).contents),
        tag: child(attribute, 1).tag,
        value: derText(child(attribute, 1)),
      })),
    ),
    notBefore: time(child(validity, 0)),
    notAfter: time(child(validity, 1)),
    subjectPublicKeyInfo: field(5).encoded,
    extensions: readExtensions(tbs),
    signatureValue: child(certificate, 2).contents,
  };
}

/** The extension with `oid`; throws if it is missing or appears twice. */
export function extensionOf(view: CertificateView, oid: string): ExtensionView {
  const found = view.extensions.filter((extension) => extension.oid === oid);
  if (found.length !== 1) throw new Error(`expected one extension ${oid}, found ${found.length}`);
  return found[0] as ExtensionView;
}
