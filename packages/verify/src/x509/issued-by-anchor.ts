import { isValidSignature } from '@orbis/crypto';
import { CertificateError } from '../errors.ts';
import { equalBytes } from './der.ts';
import { OID } from './oids.ts';
import type { ParsedCertificate } from './parse-certificate.ts';

/**
 * RFC 5280 section 6.1 for the one path shape Orbis uses: a leaf issued directly by a trust
 * anchor. There are no intermediates, so there is no path to build and nothing a presented
 * chain can add; a certificate the peer sends beside its leaf is never consulted.
 */

/**
 * Throws CERT_ANCHOR_INVALID unless `anchor` is what Orbis configures as a trust anchor: a
 * self-issued CA certificate (tenant CAs and the update CA are self-signed) with critical
 * basicConstraints cA (RFC 5280 4.2.1.9), keyUsage keyCertSign (4.2.1.3), a subject key
 * identifier to be found by (4.2.1.2), and no authority key identifier naming another key.
 * Anchors come from the service's own configuration, so a failure here is a configuration
 * error, not an attack. The self-signature is not checked: an anchor is trusted by
 * configuration, not by its signature.
 */
export function assertTrustAnchor(anchor: ParsedCertificate): void {
  const invalid = (reason: string) => new CertificateError('CERT_ANCHOR_INVALID', `trust anchor: ${reason}`);
  const basicConstraints = anchor.extensions.get(OID.basicConstraints);
  if (anchor.basicConstraints?.ca !== true || basicConstraints?.critical !== true) {
    throw invalid('not a CA certificate with critical basicConstraints');
  }
  if (anchor.keyUsage?.includes('keyCertSign') !== true) throw invalid('keyUsage lacks keyCertSign');
  const keyId = anchor.subjectKeyIdentifier;
  if (keyId === undefined) throw invalid('no subject key identifier');
  if (!equalBytes(anchor.issuer.der, anchor.subject.der)) throw invalid('not self-issued');
  const authority = anchor.authorityKeyIdentifier;
  if (
    anchor.extensions.has(OID.authorityKeyIdentifier) &&
    (authority === undefined || !equalBytes(authority, keyId))
  ) {
    throw invalid('its authority key identifier is not its own');
  }
}

/**
 * Throws CERT_NOT_YET_VALID or CERT_EXPIRED unless notBefore ≤ now ≤ notAfter (4.1.2.5). Written
 * so that a `now` that is not a number (NaN) fails closed.
 */
export function assertWithinValidity(certificate: ParsedCertificate, now: number, what: string): void {
  if (!(now >= certificate.notBefore)) {
    throw new CertificateError('CERT_NOT_YET_VALID', `${what} is not valid until ${certificate.notBefore}`);
  }
  if (!(now <= certificate.notAfter)) {
    throw new CertificateError('CERT_EXPIRED', `${what} expired at ${certificate.notAfter}`);
  }
}

/**
 * Verifies that `leaf` was signed by one of `anchors` and that both are valid at `now`, and
 * returns that anchor. The issuer is found by authorityKeyIdentifier = subjectKeyIdentifier
 * and issuer = subject (compared as DER bytes), then its signature over the leaf's
 * tbsCertificate must verify. The leaf must not itself be a CA (an anchor presented as a leaf).
 */
export function verifyIssuedByAnchor(
  leaf: ParsedCertificate,
  anchors: readonly ParsedCertificate[],
  now: number,
): ParsedCertificate {
  const keyId = leaf.authorityKeyIdentifier;
  if (keyId === undefined) {
    throw new CertificateError('CERT_PROFILE_INVALID', 'the certificate has no authority key identifier');
  }
  const candidates = anchors.filter(
    (anchor) =>
      anchor.subjectKeyIdentifier !== undefined &&
      equalBytes(anchor.subjectKeyIdentifier, keyId) &&
      equalBytes(anchor.subject.der, leaf.issuer.der) &&
      // RFC 5280 4.1.2.4: an issuer name is never empty; an empty one names no anchor.
      leaf.issuer.rdns.length > 0,
  );
  if (candidates.length === 0) {
    throw new CertificateError('CERT_UNKNOWN_ISSUER', 'the certificate was not issued by a trusted anchor');
  }
  for (const candidate of candidates) assertTrustAnchor(candidate);
  const issuer = candidates.find((anchor) =>
    isValidSignature(anchor.publicKey, leaf.tbs, leaf.signatureValue, 'der'),
  );
  if (issuer === undefined) {
    throw new CertificateError(
      'CERT_SIGNATURE_INVALID',
      "the anchor's signature on the certificate does not verify",
    );
  }
  assertWithinValidity(issuer, now, 'the issuing anchor');
  assertWithinValidity(leaf, now, 'the certificate');
  if (leaf.basicConstraints?.ca === true || leaf.keyUsage?.includes('keyCertSign') === true) {
    throw new CertificateError('CERT_PROFILE_INVALID', 'a CA certificate is not accepted as a leaf');
  }
  return issuer;
}
