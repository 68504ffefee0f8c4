import Type from 'typebox';
import { ComponentId, ImageId, SecurityVersion, TenantId, Version } from './ids.ts';

/**
 * The signed header of an image package (docs/formats/image-package.md). It is stored as
 * RFC 8785 canonical JSON, so the bytes that were signed have exactly one reading.
 */

const common = {
  componentId: ComponentId,
  imageId: ImageId,
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
  version: Version,
  securityVersion: SecurityVersion,
};

/** A boot stage: signed by the platform operator's OS-release key, for every tenant. */
export const PlatformImageHeader = Type.Object(
  {
    kind: Type.Union([Type.Literal('bootloader'), Type.Literal('security-monitor'), Type.Literal('os')]),
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
