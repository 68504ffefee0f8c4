/**
 * The payload of an app's image package, format version 1 (docs/formats/app-package.md): the
 * manifest and the bundle's files in one length-prefixed container, so the signature over the
 * image covers both.
 *
 *   preamble (12 bytes): magic "OAPP" ‖ version u16 ‖ file count u16 ‖ manifest length u32
 *   manifest (RFC 8785 canonical JSON)
 *   { path length u16 ‖ path (ASCII) ‖ size u32 ‖ bytes } × file count, in ascending path order
 *
 * All integers are big-endian. The writer is encodeAppPayload (packages/ca), the reader
 * parseAppPayload (packages/verify); both read their layout from here.
 */

/** "OAPP": Orbis APP. */
export const APP_PAYLOAD_MAGIC: readonly number[] = Object.freeze([0x4f, 0x41, 0x50, 0x50]);
export const APP_PAYLOAD_FORMAT_VERSION = 1;
export const APP_PAYLOAD_PREAMBLE_BYTES = 12;
/** The name of the manifest in an app's source directory. */
export const APP_MANIFEST_FILE_NAME = 'app_manifest.json';
