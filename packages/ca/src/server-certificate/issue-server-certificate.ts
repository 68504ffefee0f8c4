import { encodeHex, P256_SPKI_BYTES, type PublicKey, type Random, type Signer } from '@orbis/crypto';
import {
  encodeDer,
  explicit,
  ia5String,
  implicit,
  integer,
  octetString,
  sequence,
  type Der,
  type DerNode,
} from '../der/index.ts';
import { isCaCertificate, type CaCertificate } from '../ca-certificate/ca-certificate.ts';
import { authorityKeyIdentifierExtension, KEY_USAGE_EXTENSION } from '../device-certificate/profile.ts';
import { CaError } from '../errors.ts';
import { extension } from '../x509/extension.ts';
import { keyIdentifier } from '../x509/key-identifier.ts';
import { encodeName } from '../x509/name.ts';
import { ECDSA_WITH_SHA256, OID, VERSION_3 } from '../x509/oids.ts';
import { drawSerialNumber } from '../x509/serial.ts';
import { signCertificate } from '../x509/sign-certificate.ts';
import { encodeValidity, wholeSecondValidity, type Validity } from '../x509/validity.ts';
import { checkDnsName, ipAddressOctets } from './server-names.ts';

/** The CA/Browser Forum's ceiling for a TLS server certificate (Baseline Requirements 6.3.2). */
export const MAX_SERVER_CERTIFICATE_VALIDITY_DAYS = 398;
/** Most names (DNS names and IP addresses together) one server certificate carries. */
export const MAX_SERVER_CERTIFICATE_NAMES = 32;
const DAY_MS = 86_400_000;

export interface IssueServerCertificateOptions {
  /** The issuing CA (the service's intermediate), from this package. */
  readonly issuer: CaCertificate;
  /** The issuer's key handle; its public key must be the one in `issuer`. */
  readonly issuerSigner: Signer;
  /** The server's TLS key. */
  readonly subjectKey: PublicKey;
  /** Lowercase DNS names, no wildcards. */
  readonly dnsNames: readonly string[];
  /** IPv4 dotted decimal or IPv6 text. */
  readonly ipAddresses: readonly string[];
  /** Draws the serial number. */
  readonly random: Random;
  /** Milliseconds since the Unix epoch, floored to whole seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface IssuedServerCertificate extends Validity {
  readonly der: Uint8Array;
  /** The serial number's 16 octets, lowercase hex. */
  readonly serialNumber: string;
}

/** `CN = Orbis service`: clients match the subjectAltName (RFC 6125 6.4.4), so the subject names no host. */
const SERVER_SUBJECT = encodeDer(encodeName([[OID.commonName, 'Orbis service']]));
/** extKeyUsage serverAuth only (RFC 5280 4.2.1.12), non-critical as for device certificates. */
const SERVER_AUTH_EXTENSION = encodeDer(extension(OID.extKeyUsage, false, sequence(OID.serverAuth)));

function checkKeys(options: IssueServerCertificateOptions): void {
  const { issuer, issuerSigner, subjectKey } = options;
  if (!isCaCertificate(issuer)) {
    throw new CaError(
      'CA_ISSUER_INVALID',
      'the issuer must come from createCaCertificate or a parse function',
    );
  }
  if (issuerSigner.publicKey.keyId !== issuer.publicKey.keyId) {
    throw new CaError('CA_SIGNER_MISMATCH', "the signer's key is not the issuer certificate's key");
  }
  const key = subjectKey as Partial<PublicKey> | null | undefined;
  if (key?.kind !== 'p256-public-key' || key.spki?.byteLength !== P256_SPKI_BYTES) {
    throw new CaError('CA_CERTIFICATE_KEY_INVALID', 'the server key is not a parsed P-256 public key');
  }
  if (key.keyId === issuer.publicKey.keyId) {
    throw new CaError('CA_CERTIFICATE_KEY_INVALID', "a server certificate never certifies its CA's key");
  }
}

function checkValidity(options: IssueServerCertificateOptions): Validity {
  const validity = wholeSecondValidity(options.notBefore, options.notAfter);
  if (validity.notAfter - validity.notBefore > MAX_SERVER_CERTIFICATE_VALIDITY_DAYS * DAY_MS) {
    throw new CaError(
      'CA_VALIDITY_INVALID',
      `a server certificate lives at most ${MAX_SERVER_CERTIFICATE_VALIDITY_DAYS} days`,
    );
  }
  const { issuer } = options;
  if (validity.notAfter <= issuer.notBefore || validity.notAfter > issuer.notAfter) {
    throw new CaError('CA_VALIDITY_INVALID', "the certificate would end outside the issuer's validity");
  }
  return validity;
}

/** GeneralNames: dNSName `[2] IA5String`, iPAddress `[7] OCTET STRING` (RFC 5280 4.2.1.6). */
function subjectAltName(dnsNames: readonly string[], ipAddresses: readonly string[]): DerNode {
  const count = dnsNames.length + ipAddresses.length;
  if (count === 0 || count > MAX_SERVER_CERTIFICATE_NAMES) {
    throw new CaError(
      'CA_ENCODING_INVALID',
      `a server certificate names 1 to ${MAX_SERVER_CERTIFICATE_NAMES} DNS names and IP addresses`,
    );
  }
  const names: Der[] = [
    ...dnsNames.map((name) => implicit(2, ia5String(checkDnsName(name)))),
    ...ipAddresses.map((address) => implicit(7, octetString(ipAddressOctets(address)))),
  ];
  // Non-critical: the subject is not empty (4.2.1.6 asks for critical only when it is).
  return extension(OID.subjectAltName, false, sequence(...names));
}

/**
 * Issues a TLS server certificate (the device listener's) under an Orbis CA. Profile: X.509
 * v3, 16-byte random positive serial, ecdsa-with-SHA256, subject `CN = Orbis service`,
 * subjectAltName with the DNS names and IP addresses, keyUsage critical digitalSignature
 * (ECDHE-ECDSA needs nothing else), extKeyUsage serverAuth, authorityKeyIdentifier = the
 * issuer's key identifier, subjectKeyIdentifier, and no basicConstraints (RFC 5280 4.2.1.9:
 * absent means not a CA). At most 398 days, ending within the issuer's validity.
 */
export async function issueServerCertificate(
  options: IssueServerCertificateOptions,
): Promise<IssuedServerCertificate> {
  checkKeys(options);
  const validity = checkValidity(options);
  const { issuer, subjectKey } = options;
  const serialNumber = drawSerialNumber(options.random);
  const tbs = encodeDer(
    sequence(
      VERSION_3,
      integer(serialNumber),
      ECDSA_WITH_SHA256,
      issuer.subjectName,
      encodeValidity(validity),
      SERVER_SUBJECT,
      subjectKey.spki,
      explicit(
        3,
        sequence(
          subjectAltName(options.dnsNames, options.ipAddresses),
          KEY_USAGE_EXTENSION,
          SERVER_AUTH_EXTENSION,
          authorityKeyIdentifierExtension(issuer.subjectKeyIdentifier),
          extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(subjectKey))),
        ),
      ),
    ),
  );
  const der = await signCertificate(options.issuerSigner, tbs);
  return { der, serialNumber: encodeHex(serialNumber), ...validity };
}
