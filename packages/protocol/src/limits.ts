/**
 * Size and count limits shared by every part of Orbis. Each is named with its unit; parsers
 * check them before they allocate or loop, and the service's body limits derive from them.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

/** Largest image-package header (canonical JSON), in bytes. */
export const MAX_IMAGE_HEADER_BYTES = 4 * KIB;
/** Largest image-package payload, in bytes: an OS image or an app bundle. */
export const MAX_IMAGE_PAYLOAD_BYTES = 64 * MIB;
/** Most signatures one image package may carry. */
export const MAX_IMAGE_SIGNATURES = 4;
/** Largest encoded ECDSA P-256 signature, in bytes (DER: 2 + 2 × (2 + 33)). */
export const MAX_ECDSA_P256_DER_SIGNATURE_BYTES = 72;

/** Largest app_manifest.json, in bytes. */
export const MAX_APP_MANIFEST_BYTES = 16 * KIB;
/** Most hosts an app manifest may list in AllowedConnections. */
export const MAX_ALLOWED_CONNECTIONS = 64;
/** Most entries in any other manifest capability list (pins, ports, peripherals). */
export const MAX_MANIFEST_LIST_ENTRIES = 64;
/** Largest MutableStorage quota an app may declare, in KiB. */
export const MAX_MUTABLE_STORAGE_KIB = 64 * KIB;
/** Most files one app payload may hold (docs/formats/app-package.md). */
export const MAX_APP_PAYLOAD_FILES = 64;

/** Largest attestation evidence (EAT JWT, or the TPM envelope around it), in bytes. */
export const MAX_EVIDENCE_BYTES = 32 * KIB;
/** Largest TPMS_ATTEST a TPM quote may carry, in bytes (a P-256 quote of one PCR is about 150). */
export const MAX_TPM_ATTEST_BYTES = 1024;
/** Largest TPMT_SIGNATURE of a TPM quote, in bytes (ECDSA P-256 is at most 72). */
export const MAX_TPM_SIGNATURE_BYTES = 256;
/** Largest TPM2B_PUBLIC of an identity key in a device list, in bytes (P-256 is about 90). */
export const MAX_TPM_PUBLIC_BYTES = 512;
/** Most entries in a measured-boot log: boot stages plus app images. */
export const MAX_BOOT_LOG_ENTRIES = 64;
/** Most signed device capabilities one device holds at once. */
export const MAX_DEVICE_CAPABILITIES = 8;

/** Lifetime of an attestation nonce, in seconds (ARCHITECTURE.md: 5 minutes). */
export const NONCE_LIFETIME_SECONDS = 5 * 60;
/** Lifetime of a device certificate, in seconds (24 hours). */
export const DEVICE_CERTIFICATE_LIFETIME_SECONDS = 24 * 60 * 60;
/** How far a device certificate's notBefore is set back for clock skew, in seconds. */
export const DEVICE_CERTIFICATE_BACKDATE_SECONDS = 5 * 60;
/** Most certificates in a chain a device or relying party will build. */
export const MAX_CERTIFICATE_CHAIN_LENGTH = 4;
/**
 * Largest DER certificate Orbis parses, in bytes. An Orbis device certificate is about 700
 * bytes and a tenant CA under 500; the limit leaves room for longer names and policies.
 */
export const MAX_CERTIFICATE_BYTES = 4 * KIB;

/** Default largest JSON request body on the HTTP API, in bytes. */
export const MAX_API_BODY_BYTES = 1 * MIB;
