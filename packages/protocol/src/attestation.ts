import Type from 'typebox';
import {
  Base64Url,
  Base64UrlUpTo,
  ComponentId,
  DeviceId,
  SecurityVersion,
  TenantId,
  UUID_PATTERN,
  Version,
} from './ids.ts';
import {
  MAX_BOOT_LOG_ENTRIES,
  MAX_DEVICE_CAPABILITIES,
  MAX_TPM_ATTEST_BYTES,
  MAX_TPM_SIGNATURE_BYTES,
} from './limits.ts';

/**
 * Attestation evidence: the claims of the EAT (RFC 9711) that the root of trust composes and
 * signs as a JWT with `typ` `eat+jwt` and ES256. Registered EAT claims keep their names;
 * Orbis's own claims carry an `orbis_` prefix.
 */

/** `eat_profile`: names this claim set and its rules. */
export const ORBIS_EAT_PROFILE = 'urn:orbis:eat-profile:1';
/** JOSE `typ` of the evidence (RFC 9711 section 9.1). */
export const EAT_JWT_TYPE = 'eat+jwt';

/**
 * The attestation nonce: base64url of time (6 bytes) ‖ random (16) ‖ HMAC (16), 38 bytes in
 * 51 characters.
 */
export const ATTESTATION_NONCE_BYTES = 38;
export const AttestationNonce = Base64Url(ATTESTATION_NONCE_BYTES);
/** `ueid`: base64url of 0x01 (type RAND) ‖ the 32-byte device ID. */
export const Ueid = Base64Url(33);

/** `dbgstat` (RFC 9711 section 4.2.9). */
export const DEBUG_STATUS = {
  enabled: 0,
  disabled: 1,
  disabledSinceBoot: 2,
  disabledPermanently: 3,
  disabledFullyAndPermanently: 4,
} as const;

/** One measured-boot log entry: a boot stage or an app image, extended in boot order. */
export const BootLogEntry = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('bootloader'),
      Type.Literal('security-monitor'),
      Type.Literal('os'),
      Type.Literal('app'),
    ]),
    componentId: ComponentId,
    version: Version,
    securityVersion: SecurityVersion,
    /** SHA-256 of the whole image package, lowercase hex. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** Key ID (SHA-256 of the signer's SPKI, lowercase hex) of the key that signed it. */
    signer: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

/** The device capabilities a tenant may grant (ARCHITECTURE.md, Apps and the device OS). */
export const DeviceCapabilityName = Type.Union([
  Type.Literal('appDevelopment'),
  Type.Literal('fieldServicing'),
]);

/** A device capability as signed by the capability key (RFC 8785 canonical JSON). */
export const DeviceCapability = Type.Object(
  {
    deviceId: DeviceId,
    tenantId: TenantId,
    capability: DeviceCapabilityName,
    issuedAt: Type.Integer({ minimum: 0 }),
    expiresAt: Type.Integer({ minimum: 0 }),
    epoch: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
  },
  { additionalProperties: false },
);

export const SignedDeviceCapability = Type.Object(
  {
    capability: DeviceCapability,
    /** ES256 over the canonical JSON of `capability`, IEEE P1363, base64url. */
    signature: Base64Url(64),
  },
  { additionalProperties: false },
);

export const P256PublicJwk = Type.Object(
  {
    kty: Type.Literal('EC'),
    crv: Type.Literal('P-256'),
    x: Base64Url(32),
    y: Base64Url(32),
  },
  { additionalProperties: false },
);

export const AttestationClaims = Type.Object(
  {
    eat_nonce: AttestationNonce,
    ueid: Ueid,
    eat_profile: Type.Literal(ORBIS_EAT_PROFILE),
    iat: Type.Integer({ minimum: 0 }),
    /** Root-of-trust boot counter: never goes back; one value never has two boot seeds. */
    bootcount: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
    /** Random per boot (RFC 9711 section 4.3.4), 32 bytes. */
    bootseed: Base64Url(32),
    dbgstat: Type.Integer({
      minimum: DEBUG_STATUS.enabled,
      maximum: DEBUG_STATUS.disabledFullyAndPermanently,
    }),
    orbis_boot_log: Type.Array(BootLogEntry, { minItems: 1, maxItems: MAX_BOOT_LOG_ENTRIES }),
    /** Anti-rollback floors by component ID, and the capability epoch. */
    orbis_counters: Type.Object(
      {
        antiRollback: Type.Record(Type.String({ pattern: UUID_PATTERN }), SecurityVersion, {
          maxProperties: MAX_BOOT_LOG_ENTRIES,
          additionalProperties: false,
        }),
        capabilityEpoch: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
      },
      { additionalProperties: false },
    ),
    orbis_capabilities: Type.Array(SignedDeviceCapability, { maxItems: MAX_DEVICE_CAPABILITIES }),
    /** The certificate key the root of trust generated itself (RFC 7800 `cnf`). */
    cnf: Type.Object({ jwk: P256PublicJwk }, { additionalProperties: false }),
  },
  { additionalProperties: false, $id: 'AttestationClaims' },
);

/**
 * The TPM backend's quote (ARCHITECTURE.md, Attestation step 2, "With the TPM backend"): the
 * identity key, a restricted TPM key, quotes the measurement PCR (sha256 bank, PCR 8) over
 * qualifying data SHA-256(nonce bytes ‖ certificate-key SPKI ‖ SHA-256(EAT payload bytes)),
 * which binds the quote to this attestation's nonce, its `cnf` key and its claims. Both fields
 * are the TPM's own marshalled structures, base64url.
 */
export const TpmQuote = Type.Object(
  {
    /** TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, exactly as the TPM signed it. */
    attest: Base64UrlUpTo(MAX_TPM_ATTEST_BYTES),
    /** TPMT_SIGNATURE: ECDSA with SHA-256 over `attest`. */
    signature: Base64UrlUpTo(MAX_TPM_SIGNATURE_BYTES),
  },
  { additionalProperties: false },
);

/**
 * What a root of trust hands the attestation client: the EAT (a compact JWS) and, from the TPM
 * backend, the quote that goes with it. Together they are the evidence envelope.
 */
export const DeviceEvidence = Type.Object(
  { evidence: Type.String({ minLength: 1 }), tpmQuote: Type.Optional(TpmQuote) },
  { additionalProperties: false },
);

export type BootLogEntry = Type.Static<typeof BootLogEntry>;
export type DeviceCapability = Type.Static<typeof DeviceCapability>;
export type SignedDeviceCapability = Type.Static<typeof SignedDeviceCapability>;
export type P256PublicJwk = Type.Static<typeof P256PublicJwk>;
export type AttestationClaims = Type.Static<typeof AttestationClaims>;
export type TpmQuote = Type.Static<typeof TpmQuote>;
export type DeviceEvidence = Type.Static<typeof DeviceEvidence>;

/**
 * The service's answer to an admitted attestation (POST /device/v1/attestation): the
 * certificate (DER, base64) with its validity, the tenant's anchors (PEM) and the capabilities
 * the device must delete. The device checks the certificate before it keeps it.
 */
export const AttestationResult = Type.Object(
  {
    resultClass: Type.Union([
      Type.Literal('trusted'),
      Type.Literal('development'),
      Type.Literal('update-only'),
    ]),
    osStatus: Type.Union([Type.Literal('current'), Type.Literal('superseded')]),
    certificate: Type.String(),
    notBefore: Type.Integer(),
    notAfter: Type.Integer(),
    anchors: Type.Array(Type.String()),
    removedCapabilities: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export type AttestationResult = Type.Static<typeof AttestationResult>;
