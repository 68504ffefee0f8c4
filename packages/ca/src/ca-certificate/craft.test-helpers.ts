import { generateSoftwareSigner, type Signer } from '@orbis/crypto';
import {
  bitString,
  encodeDer,
  explicit,
  integer,
  namedBitString,
  objectIdentifier,
  octetString,
  sequence,
  smallInteger,
  type Der,
  boolean,
} from '../der/index.ts';
import { extension } from '../x509/extension.ts';
import { keyIdentifier } from '../x509/key-identifier.ts';
import { encodeName } from '../x509/name.ts';
import { ECDSA_WITH_SHA256, KEY_USAGE_BIT, OID, VERSION_3 } from '../x509/oids.ts';
import { encodeValidity } from '../x509/validity.ts';

/**
 * Writes self-signed certificates that are correctly signed but differ from the CA profile in
 * one field, so each of parseCaCertificate's checks can be shown to refuse on its own.
 */

export interface CraftedFields {
  version: Der;
  serial: Der;
  innerAlgorithm: Der;
  issuer: Der;
  subject: Der;
  validity: Der;
  extensions: readonly Der[];
  /** Written after the extensions inside the TBSCertificate. */
  trailing: readonly Der[];
  outerAlgorithm: Der;
  unusedBits: number;
}

export function standardExtensions(signer: Signer): Der[] {
  return [
    extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
    extension(OID.keyUsage, true, namedBitString([KEY_USAGE_BIT.keyCertSign])),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(signer.publicKey))),
  ];
}

export async function craftCertificate(
  changes: Partial<CraftedFields> = {},
  signer: Signer = generateSoftwareSigner().signer,
): Promise<Uint8Array> {
  const name = encodeName([[OID.commonName, 'Crafted CA']]);
  const fields: CraftedFields = {
    version: VERSION_3,
    serial: integer(Uint8Array.of(0x42)),
    innerAlgorithm: ECDSA_WITH_SHA256,
    issuer: name,
    subject: name,
    validity: encodeValidity({ notBefore: Date.UTC(2026, 0, 1), notAfter: Date.UTC(2027, 0, 1) }),
    extensions: standardExtensions(signer),
    trailing: [],
    outerAlgorithm: ECDSA_WITH_SHA256,
    unusedBits: 0,
    ...changes,
  };
  const tbs = encodeDer(
    sequence(
      fields.version,
      fields.serial,
      fields.innerAlgorithm,
      fields.issuer,
      fields.validity,
      fields.subject,
      signer.publicKey.spki,
      explicit(3, sequence(...fields.extensions)),
      ...fields.trailing,
    ),
  );
  const signature = await signer.sign(tbs, 'der');
  const signatureBits =
    fields.unusedBits === 0
      ? bitString(signature)
      : bitString(Uint8Array.of(...signature, 0), fields.unusedBits);
  return encodeDer(sequence(tbs, fields.outerAlgorithm, signatureBits));
}

export const SHA384_ALGORITHM = encodeDer(sequence(objectIdentifier('1.2.840.10045.4.3.3')));
