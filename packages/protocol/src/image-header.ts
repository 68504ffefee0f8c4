import Type from 'typebox';
import { ComponentId, ImageId, SecurityVersion, TenantId, Version } from './ids.ts';

/**
 * The signed header of an image package (docs/formats/image-package.md). It is stored as
 * RFC 8785 canonical JSON, so the bytes that were signed have exactly one reading.
 */

/** Images the platform operator signs with the OS-release key, one per boot stage. */
export const PLATFORM_IMAGE_KINDS = ['bootloader', 'security-monitor', 'os'] as const;
export type PlatformImageKind = (typeof PLATFORM_IMAGE_KINDS)[number];

const common = {
  componentId: ComponentId,
  imageId: ImageId,
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
  version: Version,
  securityVersion: SecurityVersion,
};

export const PlatformImageHeader = Type.Object(
  {
    kind: Type.Union(PLATFORM_IMAGE_KINDS.map((kind) => Type.Literal(kind))),
    ...common,
  },
  { additionalProperties: false },
);

/** An app image belongs to exactly one tenant; a device refuses another tenant's app. */
export const AppImageHeader = Type.Object(
  {
    kind: Type.Literal('app'),
    tenantId: TenantId,
    ...common,
  },
  { additionalProperties: false },
);

export const ImageHeader = Type.Union([PlatformImageHeader, AppImageHeader], { $id: 'ImageHeader' });

export type PlatformImageHeader = Type.Static<typeof PlatformImageHeader>;
export type AppImageHeader = Type.Static<typeof AppImageHeader>;
export type ImageHeader = Type.Static<typeof ImageHeader>;
