import Type from 'typebox';

/** A device ID: SHA-256 of the identity key's canonical SPKI, 64 lowercase hex characters. */
export const DEVICE_ID_PATTERN = '^[0-9a-f]{64}$';
/** Tenant, component and image IDs: lowercase RFC 9562 UUIDs, opaque to everyone. */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN, minLength: 64, maxLength: 64 });
export const Uuid = Type.String({ pattern: UUID_PATTERN, minLength: 36, maxLength: 36 });
export const TenantId = Uuid;
export const ComponentId = Uuid;
export const ImageId = Uuid;

/** A version shown to people, `MAJOR.MINOR.PATCH` with an optional pre-release tag. */
export const Version = Type.String({
  pattern: '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z.-]{1,32})?$',
  maxLength: 64,
});

/** A security version: what anti-rollback counters compare, an unsigned 32-bit integer. */
export const SecurityVersion = Type.Integer({ minimum: 0, maximum: 0xffff_ffff });

/** Unpadded base64url text (RFC 4648 section 5) of 1 to `maxBytes` bytes. */
export function Base64UrlUpTo(maxBytes: number) {
  return Type.String({ pattern: '^[A-Za-z0-9_-]*$', minLength: 2, maxLength: Math.ceil((maxBytes * 4) / 3) });
}

/** Unpadded base64url text (RFC 4648 section 5) that decodes to exactly `exactBytes` bytes. */
export function Base64Url(exactBytes: number) {
  const chars = Math.ceil((exactBytes * 4) / 3);
  return Type.String({ pattern: '^[A-Za-z0-9_-]*$', minLength: chars, maxLength: chars });
}
