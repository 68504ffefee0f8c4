import { derToP1363, type Signer } from '@orbis/crypto';
import { bitString, encodeDer, sequence } from '../der/index.ts';
import { CaError } from '../errors.ts';
import { ECDSA_WITH_SHA256 } from './oids.ts';

/**
 * Signs a TBSCertificate and wraps it: `Certificate ::= SEQUENCE { tbsCertificate,
 * signatureAlgorithm, signatureValue BIT STRING }` (RFC 5280 4.1.1), with the same
 * AlgorithmIdentifier inside and outside as 4.1.1.2 requires. The signature comes from a key
 * handle that may be an HSM, so its shape is checked (strict DER, two P-256 scalars) before it
 * is put into a certificate; a failing signer is CA_SIGNER_FAILED, never a silent gap.
 */
export async function signCertificate(signer: Signer, tbsCertificate: Uint8Array): Promise<Uint8Array> {
  let signature: Uint8Array;
  try {
    signature = await signer.sign(tbsCertificate, 'der');
    derToP1363(signature);
  } catch (cause) {
    throw new CaError('CA_SIGNER_FAILED', 'the CA key did not produce a DER ECDSA P-256 signature', {
      cause,
    });
  }
  return encodeDer(sequence(tbsCertificate, ECDSA_WITH_SHA256, bitString(signature)));
}
