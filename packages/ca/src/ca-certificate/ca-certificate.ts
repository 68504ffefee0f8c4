import type { PublicKey } from '@orbis/crypto';

/**
 * A self-signed ECDSA P-256 CA certificate (tenant CA, update CA, platform root), or an
 * intermediate certified by one (the service's issuing intermediate), with what an issuer
 * needs from it already taken out. Only createCaCertificate, createIntermediateCaCertificate
 * and their parse functions make these; the issuers refuse any other object
 * (CA_ISSUER_INVALID), so the name and key identifier they copy into certificates always came
 * out of a checked DER certificate. Treat the byte arrays as read-only.
 */
export interface CaCertificate {
  readonly kind: 'ca-certificate';
  /** The certificate, DER: what the service stores and `orbis tenant download-ca` hands out. */
  readonly der: Uint8Array;
  /** The serial number's INTEGER contents, lowercase hex. */
  readonly serialNumber: string;
  /** The subject Name, DER; device certificates copy it verbatim as their issuer. */
  readonly subjectName: Uint8Array;
  /** The subjectKeyIdentifier; device certificates name it in authorityKeyIdentifier. */
  readonly subjectKeyIdentifier: Uint8Array;
  readonly publicKey: PublicKey;
  /** Milliseconds since the Unix epoch, whole seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints pathLenConstraint; null when absent (no limit). */
  readonly pathLength: number | null;
}

const made = new WeakSet<CaCertificate>();

/** Freezes and records a CA certificate built by this package. */
export function recordCaCertificate(fields: Omit<CaCertificate, 'kind'>): CaCertificate {
  const certificate: CaCertificate = Object.freeze({ kind: 'ca-certificate', ...fields });
  made.add(certificate);
  return certificate;
}

/** Never throws: whether `value` came from createCaCertificate or parseCaCertificate. */
export function isCaCertificate(value: unknown): value is CaCertificate {
  return typeof value === 'object' && value !== null && made.has(value as CaCertificate);
}
