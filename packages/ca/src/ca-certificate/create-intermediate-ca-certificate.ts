import type { PublicKey, Random, Signer } from '@orbis/crypto';
import { encodeDer, explicit, integer, sequence } from '../der/index.ts';
import { CaError } from '../errors.ts';
import { keyIdentifier } from '../x509/key-identifier.ts';
import { ECDSA_WITH_SHA256, VERSION_3 } from '../x509/oids.ts';
import { drawSerialNumber } from '../x509/serial.ts';
import { signCertificate } from '../x509/sign-certificate.ts';
import { encodeValidity, wholeSecondValidity } from '../x509/validity.ts';
import { encodeCaExtensions } from './ca-extensions.ts';
import { isCaCertificate, type CaCertificate } from './ca-certificate.ts';
import { checkPathLength, opaqueCaName } from './create-ca-certificate.ts';
import { isPathLengthBelow, parseIntermediateCaCertificate } from './parse-ca-certificate.ts';

export interface CreateIntermediateCaCertificateOptions {
  /** The CA that certifies the intermediate (the platform root), from this package. */
  readonly issuer: CaCertificate;
  /** The issuer's key handle; its public key must be the one in `issuer`. */
  readonly issuerSigner: Signer;
  /** The intermediate's own key: what the certificate certifies. */
  readonly subjectKey: PublicKey;
  /** Draws the serial number and the opaque name. */
  readonly random: Random;
  /** Milliseconds since the Unix epoch, floored to whole seconds; must end within the issuer's validity. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints pathLenConstraint: 0 for an issuer of leaves; below the issuer's. */
  readonly pathLength: number;
}

function checkIssuer(options: CreateIntermediateCaCertificateOptions): CaCertificate {
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
  if (subjectKey.keyId === issuer.publicKey.keyId) {
    throw new CaError(
      'CA_CERTIFICATE_KEY_INVALID',
      "an intermediate needs a key of its own, not its issuer's",
    );
  }
  return issuer;
}

/**
 * Creates an ECDSA P-256 CA certificate signed by another CA: the issuing intermediate below
 * the platform root (ARCHITECTURE.md, "Identities and keys"), so the root's key can stay
 * offline while the intermediate signs. Profile: as createCaCertificate (v3, 16-byte random
 * serial, ecdsa-with-SHA256, opaque subject, basicConstraints critical cA pathLen, keyUsage
 * critical keyCertSign, subjectKeyIdentifier) with issuer = the issuer's subject and an
 * authorityKeyIdentifier naming the issuer's key. The issuer's path length must allow it
 * (RFC 5280 4.2.1.9) and the certificate must end while the issuer is valid, since no chain
 * verifies beyond that. Read back with parseIntermediateCaCertificate before it is returned.
 */
export async function createIntermediateCaCertificate(
  options: CreateIntermediateCaCertificateOptions,
): Promise<CaCertificate> {
  const issuer = checkIssuer(options);
  const pathLength = checkPathLength(options.pathLength);
  if (!isPathLengthBelow(pathLength, issuer)) {
    throw new CaError(
      'CA_PATH_LENGTH_INVALID',
      `the issuer's path length allows no CA with path length ${pathLength}`,
    );
  }
  const validity = wholeSecondValidity(options.notBefore, options.notAfter);
  if (validity.notAfter <= issuer.notBefore || validity.notAfter > issuer.notAfter) {
    throw new CaError('CA_VALIDITY_INVALID', "the intermediate would end outside the issuer's validity");
  }
  const { subjectKey, random } = options;
  const tbs = encodeDer(
    sequence(
      VERSION_3,
      integer(drawSerialNumber(random)),
      ECDSA_WITH_SHA256,
      issuer.subjectName,
      encodeValidity(validity),
      opaqueCaName(random),
      subjectKey.spki,
      explicit(3, encodeCaExtensions(pathLength, keyIdentifier(subjectKey), issuer.subjectKeyIdentifier)),
    ),
  );
  return parseIntermediateCaCertificate(await signCertificate(options.issuerSigner, tbs), issuer);
}
