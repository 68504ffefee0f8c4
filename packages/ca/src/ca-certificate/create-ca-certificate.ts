import { encodeHex, type Random, type Signer } from '@orbis/crypto';
import { MAX_CERTIFICATE_CHAIN_LENGTH } from '@orbis/protocol';
import { encodeDer, explicit, integer, sequence, type DerNode } from '../der/index.ts';
import { CaError } from '../errors.ts';
import { keyIdentifier } from '../x509/key-identifier.ts';
import { encodeName } from '../x509/name.ts';
import { ECDSA_WITH_SHA256, OID, VERSION_3 } from '../x509/oids.ts';
import { drawRandom, drawSerialNumber } from '../x509/serial.ts';
import { signCertificate } from '../x509/sign-certificate.ts';
import { encodeValidity, wholeSecondValidity } from '../x509/validity.ts';
import { encodeCaExtensions } from './ca-extensions.ts';
import type { CaCertificate } from './ca-certificate.ts';
import { parseCaCertificate } from './parse-ca-certificate.ts';

export interface CreateCaCertificateOptions {
  /** The CA's own key, as a handle: the certificate certifies `signer.publicKey`. */
  readonly signer: Signer;
  /** Draws the serial number and the opaque name. */
  readonly random: Random;
  /** Milliseconds since the Unix epoch; floored to whole seconds. Tenant CAs: TENANT_CA_LIFETIME_DAYS. */
  readonly notBefore: number;
  readonly notAfter: number;
  /**
   * basicConstraints pathLenConstraint. 0 (the default) for tenant and update CAs, which sign
   * only device certificates; the platform root, above an issuing intermediate, needs 1.
   */
  readonly pathLength?: number;
}

/** A CA may sit at most this far above a leaf: a chain holds at most MAX_CERTIFICATE_CHAIN_LENGTH. */
const MAX_PATH_LENGTH = MAX_CERTIFICATE_CHAIN_LENGTH - 2;
const NAME_SUFFIX_BYTES = 8;

/**
 * An opaque subject name, `O = Orbis, CN = Orbis CA <16 random hex digits>`: it never carries a
 * tenant's name, which TLS handshakes would show to anyone (ARCHITECTURE.md, "Tenant CA"), and
 * two CAs never share a name, so a certificate's issuer names one anchor.
 */
export function opaqueCaName(random: Random): DerNode {
  const suffix = encodeHex(drawRandom(random, NAME_SUFFIX_BYTES));
  return encodeName([
    [OID.organizationName, 'Orbis'],
    [OID.commonName, `Orbis CA ${suffix}`],
  ]);
}

export function checkPathLength(pathLength: unknown): number {
  if (
    !Number.isInteger(pathLength) ||
    (pathLength as number) < 0 ||
    (pathLength as number) > MAX_PATH_LENGTH
  ) {
    throw new CaError('CA_PATH_LENGTH_INVALID', `pathLength is an integer from 0 to ${MAX_PATH_LENGTH}`);
  }
  return pathLength as number;
}

/**
 * Creates a self-signed ECDSA P-256 CA certificate: a tenant CA, the update CA or the platform
 * root. Profile: X.509 v3, 16-byte random positive serial, ecdsa-with-SHA256, issuer = subject
 * (opaque name), basicConstraints critical cA pathLen, keyUsage critical keyCertSign,
 * subjectKeyIdentifier (RFC 7093 method 1). The result is read back with parseCaCertificate,
 * which also checks the signer's signature, so a fresh CA and a stored one are the same thing.
 */
export async function createCaCertificate(options: CreateCaCertificateOptions): Promise<CaCertificate> {
  const { signer, random } = options;
  const pathLength = checkPathLength(options.pathLength ?? 0);
  const validity = wholeSecondValidity(options.notBefore, options.notAfter);
  const name = opaqueCaName(random);
  const tbs = encodeDer(
    sequence(
      VERSION_3,
      integer(drawSerialNumber(random)),
      ECDSA_WITH_SHA256,
      name,
      encodeValidity(validity),
      name,
      signer.publicKey.spki,
      explicit(3, encodeCaExtensions(pathLength, keyIdentifier(signer.publicKey))),
    ),
  );
  return parseCaCertificate(await signCertificate(signer, tbs));
}
