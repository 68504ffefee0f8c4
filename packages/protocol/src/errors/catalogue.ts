/**
 * The error-code catalogue: every code Orbis returns, with the HTTP status it maps to and what
 * it means. Codes are part of the API: never rename one, only add. docs/errors.md is generated
 * from this table (`npm run docs:errors`) and a test fails when the two differ.
 */

export interface ErrorCatalogueEntry {
  /** The HTTP status the service's error handler answers with. */
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;
  /** One sentence for the catalogue: what went wrong, from the caller's side. */
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  // Requests in general (the service's error handler).
  REQUEST_INVALID: {
    status: 400,
    summary:
      'The request body or parameters do not match the schema: a missing or unknown field, or a wrong type.',
  },
  REQUEST_TOO_LARGE: { status: 413, summary: 'The request body is larger than the route allows.' },
  REQUEST_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'The request body is not in a media type the route accepts.',
  },
  NOT_FOUND: { status: 404, summary: 'No such resource, or not one the caller may see.' },
  INTERNAL: {
    status: 500,
    summary: 'An unexpected failure inside the service; the response carries only a request ID to quote.',
  },

  // packages/crypto: keys, signatures, encodings.
  CRYPTO_KEY_INVALID: {
    status: 400,
    summary:
      'The bytes or JWK are not an ECDSA P-256 public key (wrong structure, wrong curve, or a point off the curve).',
  },
  CRYPTO_KEY_NONCANONICAL: {
    status: 400,
    summary:
      'A P-256 key in an encoding other than the canonical one (compressed point, explicit curve parameters, extra fields); refused so one key cannot have two device IDs.',
  },
  CRYPTO_SIGNATURE_MALFORMED: {
    status: 400,
    summary: 'A signature that is not a strict DER or 64-byte IEEE P1363 ECDSA P-256 signature.',
  },
  CRYPTO_SIGNATURE_INVALID: { status: 403, summary: 'A well-formed signature that does not verify.' },
  CRYPTO_DEVICE_ID_INVALID: {
    status: 400,
    summary: 'A device ID that is not exactly 64 lowercase hexadecimal characters.',
  },
  CRYPTO_BASE64URL_INVALID: {
    status: 400,
    summary: 'Text that is not unpadded, canonical base64url (RFC 4648 section 5).',
  },
  CRYPTO_PEM_INVALID: {
    status: 400,
    summary:
      'Text that is not exactly one PEM block (RFC 7468) of the expected label with canonical base64 inside.',
  },
  CRYPTO_JSON_INVALID: { status: 400, summary: 'Bytes that are not well-formed UTF-8 JSON.' },
  CRYPTO_CANONICAL_JSON_INVALID: {
    status: 400,
    summary:
      'A value that RFC 8785 cannot canonicalize (a non-finite number, a lone surrogate, a non-JSON type), or JSON bytes that are not in canonical form.',
  },
  CRYPTO_SIGNER_INVALID: {
    status: 500,
    summary: 'A signing key handle was created from something other than an ECDSA P-256 private key.',
  },

  // Image packages (format: docs/formats/image-package.md).
  IMAGE_TRUNCATED: { status: 400, summary: 'The image package ends before the structure it declares.' },
  IMAGE_TOO_LARGE: {
    status: 413,
    summary: 'The image package, its header or its payload is larger than the format allows.',
  },
  IMAGE_MAGIC_INVALID: { status: 400, summary: 'The bytes do not start with the image-package magic.' },
  IMAGE_FORMAT_VERSION_UNSUPPORTED: {
    status: 400,
    summary: 'The image package declares a format version this software does not read.',
  },
  IMAGE_FLAGS_UNSUPPORTED: { status: 400, summary: 'The image package sets reserved flag bits.' },
  IMAGE_TRAILING_BYTES: { status: 400, summary: 'The image package has bytes after its last signature.' },
  IMAGE_HEADER_INVALID: {
    status: 400,
    summary: 'The image header is empty, is not valid JSON, or does not match the image-header schema.',
  },
  IMAGE_HEADER_NONCANONICAL: {
    status: 400,
    summary:
      'The image header is valid JSON but not in RFC 8785 canonical form (so it could be read two ways).',
  },
  IMAGE_PAYLOAD_EMPTY: { status: 400, summary: 'The image package declares an empty payload.' },
  IMAGE_SIGNATURE_COUNT_INVALID: {
    status: 400,
    summary: 'The image package carries no signature, or more than the format allows.',
  },
  IMAGE_SIGNATURE_ALGORITHM_UNSUPPORTED: {
    status: 400,
    summary: 'A signature names an algorithm other than ECDSA P-256 with SHA-256.',
  },
  IMAGE_SIGNATURE_DUPLICATE_KEY: {
    status: 400,
    summary: 'Two signatures in one image package name the same key.',
  },
  IMAGE_SIGNATURE_UNKNOWN_KEY: {
    status: 403,
    summary: 'A signature names a key the verifier does not trust for this image.',
  },
  IMAGE_SIGNATURE_INVALID: {
    status: 403,
    summary:
      'A signature by a trusted key does not verify over the package (the package was altered or mis-signed).',
  },

  // The service: people and access.
  AUTH_REQUIRED: {
    status: 401,
    summary: 'The request carries no valid bearer token (missing, malformed, expired or revoked).',
  },
  AUTH_LOGIN_FAILED: { status: 401, summary: 'The email address and password do not match an account.' },
  AUTH_FORBIDDEN: {
    status: 403,
    summary: 'The caller is authenticated but its role in this tenant does not allow this action.',
  },
  AUTH_PASSWORD_TOO_WEAK: {
    status: 400,
    summary: 'The new password is shorter than 12 characters or longer than 1,024 bytes.',
  },
  AUTH_SETUP_UNAVAILABLE: {
    status: 409,
    summary:
      'First-time setup is finished or the setup token is wrong; create further users as an administrator.',
  },

  // The service: key custody.
  KEYSTORE_NAME_INVALID: {
    status: 400,
    summary: 'A key name is not lowercase words and digits joined by hyphens or dots.',
  },
  KEYSTORE_KEY_NOT_FOUND: {
    status: 404,
    summary: 'The KeyStore holds no key of that name and kind (it may have been taken offline).',
  },
  KEYSTORE_KEY_EXISTS: {
    status: 409,
    summary: 'The KeyStore already holds a key of that name; keys are never overwritten.',
  },
  KEYSTORE_KEY_OFFLINE: {
    status: 409,
    summary:
      'That key was taken offline (exported and removed); the KeyStore never gives its name to a new key.',
  },
  KEYSTORE_MASTER_KEY_INVALID: {
    status: 500,
    summary: 'The configured master key is not 32 bytes of base64url.',
  },
  KEYSTORE_DECRYPT_FAILED: {
    status: 500,
    summary: 'A key file does not decrypt: the master key is wrong, or the file was altered or swapped.',
  },

  // The manufacturing registry (signed device lists).
  REGISTRY_LIST_INVALID: {
    status: 400,
    summary: 'A device list does not match the signed device-list schema.',
  },
  REGISTRY_LIST_SIGNATURE_INVALID: {
    status: 403,
    summary: "A device list's signature does not verify with its manufacturer's registered key.",
  },
  REGISTRY_LIST_ENTRY_INVALID: {
    status: 400,
    summary:
      'A listed identity key is not a canonical P-256 key, its device ID is not the SHA-256 of that key, or a device is listed twice.',
  },
  REGISTRY_TPM_PUBLIC_INVALID: {
    status: 400,
    summary:
      "A device-list entry's tpmPublic is not a strict TPM2B_PUBLIC of an ECC P-256 ECDSA SHA-256 key whose point is the entry's identity key.",
  },
  REGISTRY_TPM_KEY_NOT_RESTRICTED: {
    status: 400,
    summary:
      "A device-list entry's TPM identity key lacks restricted, sign, fixedTPM, fixedParent or sensitiveDataOrigin, or can decrypt: it could sign a forged quote, so it is refused.",
  },

  // packages/ca: certificate issuance (CA_* codes).
  CA_DEVICE_ID_INVALID: {
    status: 400,
    summary: 'The device ID for a certificate is not exactly 64 lowercase hexadecimal characters.',
  },
  CA_ASSIGNMENT_INVALID: {
    status: 400,
    summary: 'The tenant, product or group ID for a certificate is not a lowercase UUID.',
  },
  CA_RESULT_CLASS_INVALID: {
    status: 400,
    summary: 'The attestation result class is not one of trusted, development or update-only.',
  },
  CA_RESULT_CLASS_NOT_ALLOWED: {
    status: 403,
    summary:
      'This CA does not issue certificates of that class: tenant CAs issue trusted and development certificates, the update CA only update-only ones.',
  },
  CA_TENANT_MISMATCH: {
    status: 403,
    summary:
      "A tenant CA was asked to certify a device of another tenant; a tenant CA certifies only its own tenant's devices.",
  },
  CA_CERTIFICATE_KEY_INVALID: {
    status: 400,
    summary:
      "The key to certify is not a parsed P-256 public key, or it is the device's identity key, which never goes into a certificate.",
  },
  CA_VALIDITY_INVALID: {
    status: 400,
    summary:
      'The validity period is not a pair of integer millisecond timestamps with notAfter at least a second after notBefore, runs longer than the profile allows, or ends outside the validity of the issuing CA.',
  },
  CA_PATH_LENGTH_INVALID: {
    status: 400,
    summary: 'A CA certificate was asked for with a path length other than 0, 1 or 2.',
  },
  CA_ISSUER_INVALID: {
    status: 500,
    summary:
      'The issuing CA certificate was not produced by createCaCertificate or parseCaCertificate, or the issuer options name no valid scope.',
  },
  CA_CERTIFICATE_INVALID: {
    status: 500,
    summary:
      'A stored CA certificate is not a self-signed ECDSA P-256 CA certificate of the Orbis profile (malformed DER, missing or wrong extensions, or a bad self-signature).',
  },
  CA_SIGNER_MISMATCH: {
    status: 500,
    summary: 'The signing key handle given to the CA is not the key in the CA certificate.',
  },
  CA_SIGNER_FAILED: {
    status: 500,
    summary:
      'The signing key handle failed to sign, or returned something other than a strict DER ECDSA P-256 signature.',
  },
  CA_RANDOM_INVALID: {
    status: 500,
    summary: 'The injected random source returned a different number of bytes than asked for.',
  },
  CA_ENCODING_INVALID: {
    status: 500,
    summary:
      'The DER writer was asked to encode a value its type cannot hold (a malformed OID, a character outside the string type, a time outside years 0000 to 9999).',
  },

  // packages/verify: attestation evidence (ATTESTATION_*) and certificates (CERT_*).
  ATTESTATION_EVIDENCE_TOO_LARGE: {
    status: 413,
    summary: 'The attestation evidence is larger than MAX_EVIDENCE_BYTES; it was refused before parsing.',
  },
  ATTESTATION_EVIDENCE_MALFORMED: {
    status: 400,
    summary:
      'The evidence is not a compact JWS: not three segments of strict base64url, or a signature that is not 64 bytes.',
  },
  ATTESTATION_HEADER_INVALID: {
    status: 400,
    summary:
      'The evidence header is not exactly {"alg":"ES256","typ":"eat+jwt"}: another algorithm (including "none"), another type, or any other member such as crit, jwk, jku, x5u or kid.',
  },
  ATTESTATION_SIGNATURE_INVALID: {
    status: 403,
    summary: "The evidence signature does not verify with the device's registered identity key.",
  },
  ATTESTATION_CLAIMS_INVALID: {
    status: 400,
    summary: 'The evidence payload is not a JSON object that matches the attestation-claims schema.',
  },
  ATTESTATION_PROFILE_UNSUPPORTED: {
    status: 400,
    summary: 'The evidence names an eat_profile other than the Orbis profile this service reads.',
  },
  ATTESTATION_UEID_MISMATCH: {
    status: 403,
    summary: 'The evidence ueid does not name the device whose identity key signed it.',
  },
  ATTESTATION_NONCE_MISMATCH: {
    status: 403,
    summary: 'The evidence eat_nonce is not the nonce this attestation was issued.',
  },
  ATTESTATION_IAT_OUT_OF_RANGE: {
    status: 403,
    summary: "The evidence iat is further from the service's time than the allowed clock skew.",
  },
  ATTESTATION_CNF_INVALID: {
    status: 400,
    summary:
      'The certificate key in cnf.jwk is not a strict P-256 public JWK, or it is the identity key itself.',
  },
  ATTESTATION_TPM_QUOTE_MISSING: {
    status: 403,
    summary:
      "The device's identity key is registered as TPM-resident, and the evidence carries no TPM quote (a downgrade to bare EAT evidence is refused).",
  },
  ATTESTATION_TPM_QUOTE_UNEXPECTED: {
    status: 400,
    summary: 'The evidence carries a TPM quote, and the device was registered without a TPM public area.',
  },
  ATTESTATION_TPM_QUOTE_MALFORMED: {
    status: 400,
    summary:
      'The TPM quote is not a strict TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE with an ECDSA SHA-256 TPMT_SIGNATURE (bad magic, type, length, algorithm or trailing bytes).',
  },
  ATTESTATION_TPM_QUOTE_SIGNATURE_INVALID: {
    status: 403,
    summary: "The TPM quote's signature does not verify with the device's registered identity key.",
  },
  ATTESTATION_TPM_QUOTE_SIGNER_MISMATCH: {
    status: 403,
    summary:
      "The quote's qualifiedSigner is not a SHA-256 qualified name, as a quote by the device's identity key would carry, or the TPM public area registered for the device is not its identity key's.",
  },
  ATTESTATION_TPM_QUALIFYING_DATA_MISMATCH: {
    status: 403,
    summary:
      "The quote's qualifying data is not SHA-256(nonce ‖ certificate-key SPKI ‖ SHA-256(EAT payload)) for this attestation: a quote over a stale nonce, another certificate key or other claims.",
  },
  ATTESTATION_TPM_PCR_MISMATCH: {
    status: 403,
    summary:
      'The quoted PCRs are not exactly the measurement PCR (sha256 bank, PCR 8), or its digest is not the replay of the boot log in the evidence.',
  },
  ATTESTATION_TPM_KEY_NOT_RESTRICTED: {
    status: 403,
    summary:
      'The TPM public area registered for the device is not a restricted, fixedTPM, fixedParent, sensitiveDataOrigin ECDSA P-256 signing key: such a key could sign a forged quote.',
  },
  ATTESTATION_NONCE_MALFORMED: {
    status: 400,
    summary: 'The nonce is not 51 characters of strict base64url (time, random and MAC, 38 bytes).',
  },
  ATTESTATION_NONCE_INVALID: {
    status: 403,
    summary: 'The nonce was not issued by this service for this device (its MAC does not verify).',
  },
  ATTESTATION_NONCE_EXPIRED: {
    status: 403,
    summary: 'The nonce is older than its lifetime, or dated in the future; ask for a new challenge.',
  },
  ATTESTATION_DEVICE_UNKNOWN: {
    status: 403,
    summary: 'Evidence names a device ID that is not in the manufacturing registry.',
  },
  ATTESTATION_NONCE_REPLAYED: {
    status: 403,
    summary:
      'The nonce has already been used, or a nonce issued to this device after it has: each nonce is good for one attestation, and a device spends its nonces in the order they were issued.',
  },
  ATTESTATION_NONCE_KEY_INVALID: {
    status: 500,
    summary: 'The nonce HMAC key is not a secret key of at least 32 bytes (a service configuration error).',
  },
  CERT_TOO_LARGE: {
    status: 413,
    summary: 'A certificate is larger than MAX_CERTIFICATE_BYTES; it was refused before parsing.',
  },
  CERT_MALFORMED: {
    status: 400,
    summary:
      'A certificate is not strict DER X.509: a bad length or tag, a truncation, trailing bytes, a non-minimal integer, a bad time, or a field RFC 5280 forbids.',
  },
  CERT_VERSION_UNSUPPORTED: { status: 400, summary: 'A certificate is not X.509 version 3.' },
  CERT_UNSUPPORTED_ALGORITHM: {
    status: 400,
    summary: 'A certificate is signed with an algorithm other than ecdsa-with-SHA256 (without parameters).',
  },
  CERT_KEY_UNSUPPORTED: {
    status: 400,
    summary: "A certificate's subject public key is not a canonically encoded ECDSA P-256 key.",
  },
  CERT_EXTENSION_INVALID: {
    status: 400,
    summary:
      'A certificate extension is duplicated, cannot be decoded, or is marked critical where RFC 5280 forbids it.',
  },
  CERT_EXTENSION_UNKNOWN_CRITICAL: {
    status: 400,
    summary: 'A certificate carries a critical extension that Orbis does not process, so it must be refused.',
  },
  CERT_CHAIN_INVALID: {
    status: 400,
    summary: 'The presented certificate chain is empty or longer than MAX_CERTIFICATE_CHAIN_LENGTH.',
  },
  CERT_UNKNOWN_ISSUER: {
    status: 401,
    summary:
      'The certificate was not issued directly by one of the trust anchors of the tenant it names (other certificates in the chain are never used as intermediates).',
  },
  CERT_SIGNATURE_INVALID: {
    status: 401,
    summary:
      "The certificate names a trust anchor as its issuer, but the anchor's signature does not verify.",
  },
  CERT_REQUIRED: {
    status: 401,
    summary: 'This device route needs a device certificate on the TLS connection, and none was presented.',
  },
  CERT_EXPIRED: {
    status: 401,
    summary: 'The certificate, or the anchor that issued it, is past its notAfter.',
  },
  CERT_NOT_YET_VALID: {
    status: 401,
    summary: 'The certificate, or the anchor that issued it, is before its notBefore.',
  },
  CERT_PROFILE_INVALID: {
    status: 401,
    summary:
      'The certificate does not match the Orbis device-certificate profile (URI SAN, common name, key usage, extended key usage, policy, extensions), or is a CA certificate.',
  },
  CERT_CLASS_NOT_ALLOWED: {
    status: 403,
    summary:
      'The certificate is valid, but its attestation result class (trusted, development, update-only) is not allowed here.',
  },
  CERT_ANCHOR_INVALID: {
    status: 500,
    summary:
      'A configured trust anchor is not a self-issued CA certificate with critical basicConstraints, keyCertSign and its own subject key identifier (a service configuration error).',
  },

  // The service: storage (DB_*), tenants, users, tokens, the manufacturing registry, claiming
  // and the audit log.
  DB_URL_INVALID: {
    status: 500,
    summary:
      'The configured database URL is neither a postgres:// or postgresql:// URL nor a SQLite file path.',
  },
  DB_UNAVAILABLE: {
    status: 503,
    summary: 'The database cannot be reached or opened, or has been closed; retry later.',
  },
  DB_BUSY: {
    status: 503,
    summary:
      'The database stayed locked by another writer past the busy timeout, or a transaction lost a serialization conflict; retry.',
  },
  DB_MIGRATION_FAILED: {
    status: 500,
    summary:
      'The database schema could not be brought up to date, or it holds migrations this version of Orbis does not know (a newer version opened it).',
  },
  DB_CONSTRAINT_VIOLATION: {
    status: 409,
    summary: 'A write conflicts with stored data in a way no more specific code describes.',
  },
  DB_INTEGER_OUT_OF_RANGE: {
    status: 500,
    summary: 'The database returned an integer too large to be represented exactly in JavaScript.',
  },
  DB_QUERY_FAILED: {
    status: 500,
    summary: 'A database query failed unexpectedly; the detail is only in the service log.',
  },
  TENANT_EXISTS: { status: 409, summary: 'A tenant with that ID already exists.' },
  TENANT_NOT_FOUND: { status: 404, summary: 'No tenant has that ID.' },
  TENANT_LAST_ADMINISTRATOR: {
    status: 409,
    summary: 'The change would leave the tenant without an Administrator; add another one first.',
  },
  USER_EMAIL_EXISTS: {
    status: 409,
    summary: 'A user with that email address (compared case-insensitively) already exists.',
  },
  USER_EXISTS: { status: 409, summary: 'A user with that ID already exists.' },
  USER_NOT_FOUND: { status: 404, summary: 'No user has that ID or email address.' },
  USER_MEMBERSHIP_EXISTS: {
    status: 409,
    summary: 'The user is already a member of the tenant; change the role instead.',
  },
  USER_MEMBERSHIP_NOT_FOUND: { status: 404, summary: 'The user is not a member of the tenant.' },
  TOKEN_EXISTS: { status: 409, summary: 'A token with that ID or secret hash already exists.' },
  REGISTRY_MANUFACTURER_EXISTS: {
    status: 409,
    summary: 'A manufacturer with that ID or name is already registered.',
  },
  REGISTRY_MANUFACTURER_NOT_FOUND: { status: 404, summary: 'No manufacturer has that ID.' },
  REGISTRY_DEVICE_ID_MISMATCH: {
    status: 400,
    summary:
      'A device ID in a registration list is not the SHA-256 of the identity key listed with it (as 64 lowercase hexadecimal characters).',
  },
  REGISTRY_DEVICE_EXISTS: {
    status: 409,
    summary:
      'A device in the list is already registered, or is listed twice; no device of the list was registered.',
  },
  REGISTRY_KEY_ALREADY_REGISTERED: {
    status: 409,
    summary:
      'An identity key in the list is already registered under another device ID; no device of the list was registered.',
  },
  REGISTRY_BATCH_TOO_LARGE: {
    status: 413,
    summary: 'A registration or claim list names more devices than one request may.',
  },
  REGISTRY_DEVICE_NOT_FOUND: {
    status: 404,
    summary: 'No device with that ID is claimed by the tenant.',
  },
  CLAIM_DEVICE_NOT_REGISTERED: {
    status: 404,
    summary: 'A device to claim is not in the manufacturing registry; no device of the list was claimed.',
  },
  CLAIM_DEVICE_ALREADY_CLAIMED: {
    status: 409,
    summary:
      'A device to claim has already been claimed (claims are permanent); no device of the list was claimed.',
  },
  AUDIT_EVENT_INVALID: {
    status: 500,
    summary:
      'An audit event could not be recorded: its details are not JSON that RFC 8785 can canonicalize, or it is larger than the limit.',
  },
  AUDIT_APPEND_CONFLICT: {
    status: 503,
    summary: 'Another writer took the next audit sequence number at the same time; retry.',
  },
  AUDIT_HEAD_EXISTS: {
    status: 409,
    summary: 'A signed head for that chain and sequence number already exists.',
  },
  AUDIT_HEAD_MISMATCH: {
    status: 409,
    summary:
      'A signed audit head names a sequence number the chain does not have, or a hash other than the chain has there.',
  },

  // packages/verify: appraisal of verified evidence against the device record and reference values.
  APPRAISAL_DEVICE_UNCLAIMED: {
    status: 403,
    summary: 'The device is registered but no tenant has claimed it.',
  },
  APPRAISAL_DEVICE_DISABLED: { status: 403, summary: 'The tenant disabled this device.' },
  APPRAISAL_DEVICE_QUARANTINED: { status: 403, summary: 'An alert quarantined this device.' },
  APPRAISAL_BOOTCOUNT_REGRESSED: {
    status: 403,
    summary: "The root of trust's boot counter went backwards: a cloned device or a reset root of trust.",
  },
  APPRAISAL_CLONE_DETECTED: {
    status: 403,
    summary: 'One boot count was reported with two different boot seeds: a cloned device.',
  },
  APPRAISAL_MEASUREMENT_UNKNOWN: {
    status: 403,
    summary: 'A measured boot stage matches no registered OS release, or the boot log has no OS.',
  },
  APPRAISAL_APP_UNKNOWN: {
    status: 403,
    summary:
      "A measured app matches none of the tenant's images and the device holds no valid appDevelopment capability.",
  },
  APPRAISAL_DEBUG_UNAUTHORIZED: {
    status: 403,
    summary: 'The device reports debugging enabled but holds no valid appDevelopment capability.',
  },
  APPRAISAL_OS_OUTDATED: {
    status: 403,
    summary:
      "The OS security version is below the group's minimum; the device gets an update-only certificate.",
  },

  // The device listener.
  DEVICE_DISABLED: {
    status: 403,
    summary: 'The tenant disabled this device; its certificate is refused on every route.',
  },
  DEVICE_QUARANTINED: {
    status: 403,
    summary: 'An alert quarantined this device; its certificate is refused on every route.',
  },
  DEVICE_MISMATCH: {
    status: 403,
    summary: 'The request names a different device than the certificate on its connection.',
  },

  // Products, device groups and OS releases.
  GROUP_NOT_FOUND: { status: 404, summary: 'No device group with that ID in this tenant.' },
  OS_RELEASE_EXISTS: {
    status: 409,
    summary: 'A boot-stage measurement with that SHA-256 is already registered.',
  },
  OS_RELEASE_INVALID: {
    status: 400,
    summary: 'An OS release must list each boot stage (bootloader, security monitor, OS) exactly once.',
  },

  // The service's PKI: platform root, issuing intermediate, service TLS, update and tenant CAs.
  PKI_NOT_READY: {
    status: 503,
    summary: 'The service has not set up its certificate authorities yet; it does so at start.',
  },
  PKI_ROOT_OFFLINE: {
    status: 503,
    summary:
      "A new issuing intermediate is needed but the platform root CA's key is offline: restore it to the KeyStore for the signing, then take it offline again.",
  },
  PKI_TENANT_CA_MISSING: {
    status: 503,
    summary: 'The tenant has no CA that signs now; the service creates one at start and every hour.',
  },
  PKI_UPDATE_CA_MISSING: {
    status: 503,
    summary:
      'The update CA has no certificate that signs now; the service creates one at start and every hour.',
  },
  PKI_CA_KEY_MISSING: {
    status: 503,
    summary: 'The KeyStore holds no key for a CA the service has to sign with (it was removed or moved).',
  },
  PKI_CERTIFICATE_INVALID: {
    status: 500,
    summary:
      'A certificate the service stored for its CAs does not read back as one, or is not certified by the CA above it.',
  },
  PKI_HOSTNAME_INVALID: {
    status: 400,
    summary:
      "The names for the service's TLS certificate are missing, too many, or neither DNS names nor IP addresses.",
  },
  PKI_ANCHORS_INVALID: {
    status: 500,
    summary:
      "What the service sent as a tenant's anchors is not a list of self-signed ECDSA P-256 CA certificates; nothing was written.",
  },

  // Security renewal (updates): the TUF repositories' metadata.
  UPDATES_ROOT_INVALID: {
    status: 500,
    summary:
      'A TUF root the service stored, or sent to the CLI, does not read back as root metadata signed by its own root keys: the service does not start on it, and the CLI writes nothing.',
  },

  // The orbis command-line tool.
  CLI_FILE_UNREADABLE: { status: 400, summary: 'A file named on the command line cannot be read.' },
  CLI_FILE_TOO_LARGE: {
    status: 413,
    summary: 'A file named on the command line is larger than its format allows.',
  },
  CLI_FILE_EXISTS: {
    status: 409,
    summary: 'The output file already exists or cannot be created; Orbis never overwrites keys or packages.',
  },
  CLI_KEY_INVALID: {
    status: 400,
    summary: 'A key file does not hold an ECDSA P-256 key of the kind the command needs.',
  },
  CLI_CONFIRMATION_REQUIRED: {
    status: 400,
    summary: 'The command cannot be undone and needs --confirm with the name of what it acts on.',
  },
  CLI_TOKEN_MISSING: {
    status: 401,
    summary: 'The command talks to the service and needs --token-file FILE or ORBIS_TOKEN.',
  },
  CLI_SERVICE_UNREACHABLE: { status: 503, summary: 'The service API did not answer at the given URL.' },
  CLI_DEVICE_ID_INVALID: {
    status: 400,
    summary: 'A device ID on the command line or in a file is not 64 lowercase hex characters.',
  },
  CLI_OPTION_INVALID: {
    status: 400,
    summary: 'A command-line option has a value out of its range or of the wrong form.',
  },
  CLI_USAGE_INVALID: {
    status: 400,
    summary:
      'The command line does not parse: an unknown command or option, or a required option missing (`orbis help COMMAND` lists them).',
  },
  CLI_HEADER_INVALID: {
    status: 400,
    summary: 'An image-header file is not JSON or does not match the image-header schema.',
  },
  CLI_APP_BUILD_FAILED: {
    status: 400,
    summary:
      "The app's source does not bundle with esbuild (a syntax error, an import that does not resolve, or an import of a Node.js built-in: apps see only the `orbis` global); the message lists esbuild's errors.",
  },

  // Apps (packages/verify): app_manifest.json, the app payload inside an app's image package
  // (docs/formats/app-package.md), and which app owns which peripheral. Each message names the
  // field as a JSON pointer and the value that was refused.
  APP_MANIFEST_TOO_LARGE: {
    status: 413,
    summary: 'The app manifest is larger than 16 KiB (`MAX_APP_MANIFEST_BYTES`).',
  },
  APP_MANIFEST_NOT_JSON: { status: 400, summary: 'The app manifest is not UTF-8 JSON.' },
  APP_MANIFEST_NOT_OBJECT: {
    status: 400,
    summary: 'The app manifest, or its `Capabilities`, is not a JSON object.',
  },
  APP_MANIFEST_FIELD_MISSING: {
    status: 400,
    summary:
      'The app manifest lacks a required field: `SchemaVersion`, `Name`, `ComponentId`, `EntryPoint` or `Capabilities`.',
  },
  APP_MANIFEST_UNKNOWN_FIELD: {
    status: 400,
    summary: 'The app manifest, or its `MutableStorage`, has a field the schema does not define.',
  },
  APP_MANIFEST_SCHEMA_VERSION_UNSUPPORTED: {
    status: 400,
    summary: "The manifest's `SchemaVersion` is not 1, the only version this Orbis reads.",
  },
  APP_MANIFEST_NAME_INVALID: {
    status: 400,
    summary:
      'The `Name` is not 1 to 64 characters of letters, digits, space, dot, underscore and hyphen, starting with a letter or digit.',
  },
  APP_MANIFEST_COMPONENT_ID_INVALID: {
    status: 400,
    summary: 'The `ComponentId` is not a lowercase UUID.',
  },
  APP_MANIFEST_ENTRY_POINT_INVALID: {
    status: 400,
    summary:
      'The `EntryPoint` is not a relative path of at most 128 characters ending in `.js`, with no segment starting with a dot.',
  },
  APP_MANIFEST_CAPABILITY_UNKNOWN: {
    status: 400,
    summary:
      'The `Capabilities` name a capability Orbis does not define ([docs/apps.md](apps.md) lists them).',
  },
  APP_MANIFEST_LIST_INVALID: {
    status: 400,
    summary:
      'A capability that takes a list (hosts, ports, pins, peripherals, power controls) is not a JSON array.',
  },
  APP_MANIFEST_LIST_TOO_LONG: {
    status: 400,
    summary: 'A capability lists more entries than allowed (64 in each list, 2 power controls).',
  },
  APP_MANIFEST_HOST_INVALID: {
    status: 400,
    summary:
      'An `AllowedConnections` entry is not a DNS name (optionally `*.` and a domain of two or more labels) or a dotted-decimal IPv4 address: no scheme, port, path or IPv6.',
  },
  APP_MANIFEST_PORT_INVALID: {
    status: 400,
    summary: 'An `AllowedTcpServerPorts` entry is not an integer from 1 to 65535.',
  },
  APP_MANIFEST_PIN_INVALID: { status: 400, summary: 'A `Gpio` entry is not an integer from 0 to 1023.' },
  APP_MANIFEST_PERIPHERAL_INVALID: {
    status: 400,
    summary:
      'A `Uart`, `I2cMaster`, `SpiMaster`, `Adc` or `Pwm` entry is not a peripheral name (1 to 32 of A-Z, 0-9, `_` and `-`, starting with a letter or digit, such as `ISU0`).',
  },
  APP_MANIFEST_DUPLICATE_ENTRY: {
    status: 400,
    summary:
      'A list names the same entry twice (hosts compare without case), or one peripheral appears under two peripheral capabilities.',
  },
  APP_MANIFEST_QUOTA_INVALID: {
    status: 400,
    summary:
      'The `MutableStorage` is not an object whose `SizeKB` is an integer from 1 to 65536 (`MAX_MUTABLE_STORAGE_KIB`).',
  },
  APP_MANIFEST_TENANT_INVALID: {
    status: 400,
    summary: 'The `DeviceAuthentication` is not a tenant ID (a lowercase UUID).',
  },
  APP_MANIFEST_UPDATE_DEFERRAL_INVALID: {
    status: 400,
    summary: 'The `SoftwareUpdateDeferral` is not `true` or `false`.',
  },
  APP_MANIFEST_POWER_CONTROL_INVALID: {
    status: 400,
    summary: 'A `PowerControls` entry is not `ForceReboot` or `ForcePowerDown`.',
  },
  APP_PERIPHERAL_OWNED: {
    status: 409,
    summary:
      'The app claims a GPIO pin, a named peripheral or a TCP server port that another installed app owns; the message names both.',
  },
  APP_PAYLOAD_TOO_LARGE: {
    status: 413,
    summary: 'The app payload is larger than an image payload may be, or its manifest is larger than 16 KiB.',
  },
  APP_PAYLOAD_TRUNCATED: { status: 400, summary: 'The app payload ends before the structure it declares.' },
  APP_PAYLOAD_MAGIC_INVALID: { status: 400, summary: 'The app payload does not start with `OAPP`.' },
  APP_PAYLOAD_VERSION_UNSUPPORTED: {
    status: 400,
    summary: 'The app payload declares a format version other than 1.',
  },
  APP_PAYLOAD_MANIFEST_NONCANONICAL: {
    status: 400,
    summary:
      'The manifest inside the app payload is JSON but not RFC 8785 canonical JSON, so it could read two ways.',
  },
  APP_PAYLOAD_FILE_COUNT_INVALID: {
    status: 400,
    summary: 'The app payload holds no file, or more than 64 (`MAX_APP_PAYLOAD_FILES`).',
  },
  APP_PAYLOAD_PATH_INVALID: {
    status: 400,
    summary:
      'A file path in the app payload is empty, longer than 128 bytes, absolute, or has a segment starting with a dot.',
  },
  APP_PAYLOAD_FILE_ORDER_INVALID: {
    status: 400,
    summary: 'The files of the app payload are not in strictly ascending order of path (or one is repeated).',
  },
  APP_PAYLOAD_ENTRY_POINT_MISSING: {
    status: 400,
    summary: "The app payload holds no file at the manifest's `EntryPoint`.",
  },
  APP_PAYLOAD_TRAILING_BYTES: { status: 400, summary: 'The app payload has bytes after its last file.' },
  APP_PAYLOAD_COMPONENT_MISMATCH: {
    status: 403,
    summary: 'The signed image header and the manifest inside its payload name different component IDs.',
  },

  // The device runtime (packages/device): the root of trust (ROT_*), secure and measured boot
  // (BOOT_*) and the agent that attests and keeps the device running (AGENT_*). These are
  // raised on the device; the HTTP status is what a device-side API would answer.
  ROT_MANUFACTURING_STATE_FINAL: {
    status: 409,
    summary: 'The device has completed manufacturing; its manufacturing state cannot go back to Blank.',
  },
  ROT_NOT_MANUFACTURED: {
    status: 409,
    summary: 'The device is still Blank: it cannot boot or attest until manufacturing completes.',
  },
  ROT_NOT_BOOTED: { status: 409, summary: 'The root of trust was asked about a boot before one began.' },
  ROT_COUNTER_BACKWARDS: {
    status: 409,
    summary: 'A monotonic counter or an anti-rollback floor was asked to go down; it only goes up.',
  },
  ROT_UNSEAL_FAILED: {
    status: 403,
    summary:
      'Sealed data does not open under this device, signing authority and security-version floor (another device, another authority, a lower floor, or altered data).',
  },
  ROT_STATE_INVALID: {
    status: 500,
    summary: 'The root-of-trust state in the device directory is missing, unreadable or altered.',
  },
  ROT_DIRECTORY_LOCKED: {
    status: 409,
    summary: 'Another process is running this device directory; one device runs in one process at a time.',
  },
  ROT_TPM_UNAVAILABLE: {
    status: 503,
    summary: 'The TPM (swtpm or /dev/tpmrm0) did not answer, or refused a command the backend needs.',
  },
  ROT_TPM_KEY_UNLOADABLE: {
    status: 403,
    summary: "The device's keys do not load into this TPM: the directory belongs to another TPM.",
  },
  ROT_TPM_PCR_NOT_RESET: {
    status: 409,
    summary:
      'The measurement PCR was not at its reset value when a boot began: the TPM was not reset since the last boot, so the boot log could not be replayed.',
  },
  BOOT_IMAGE_INVALID: {
    status: 403,
    summary:
      'A boot image does not parse, is not signed by a trusted OS-release key, or its signature does not verify.',
  },
  BOOT_IMAGE_ROLLBACK: {
    status: 403,
    summary: "A boot image's security version is below the device's anti-rollback floor for that component.",
  },
  BOOT_IMAGE_WRONG_KIND: {
    status: 403,
    summary: 'A slot holds an image of another kind than the boot stage it is for.',
  },
  BOOT_SLOT_EMPTY: { status: 404, summary: 'A boot slot holds no image.' },
  BOOT_HALTED: {
    status: 503,
    summary: 'No slot of a boot stage holds an image that verifies: the device halts and records why.',
  },
  AGENT_SERVICE_UNREACHABLE: {
    status: 503,
    summary: 'The security service did not answer; the device retries with backoff and jitter.',
  },
  AGENT_ATTESTATION_REFUSED: {
    status: 403,
    summary: "The service refused the device's attestation; the detail carries the service's code.",
  },
  AGENT_CERTIFICATE_INVALID: {
    status: 500,
    summary:
      "The certificate the service returned does not verify under the tenant's anchors or does not certify the device's own key.",
  },
  AGENT_DEVICE_DIRECTORY_INVALID: {
    status: 400,
    summary:
      'The path is not a device directory made by `orbis device manufacture`, or one of its files is damaged.',
  },
  AGENT_DEVICE_DIRECTORY_EXISTS: {
    status: 409,
    summary: 'Manufacture would overwrite an existing device directory; choose an empty output directory.',
  },
  AGENT_TUF_ROOT_INVALID: {
    status: 400,
    summary:
      "A TUF root given at manufacture is not a TUF 1.x root.json of version 1 or later, unexpired and signed by its own root role's threshold, or the image repository's and the director's roots share a key.",
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Codes by area prefix, so each package's error class accepts only its own codes. */
export type ErrorCodeOf<Prefix extends string> = Extract<ErrorCode, `${Prefix}_${string}`>;

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.keys(ERROR_CATALOGUE) as ErrorCode[]);

/** Never throws: whether `value` is a code in the catalogue. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}
