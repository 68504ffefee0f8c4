import type { AppImageHeader, PlatformImageHeader } from '@orbis/protocol';

/** Fixed, valid IDs and headers for tests and benchmarks. */
export const SAMPLE_TENANT_ID = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';
/** A second tenant, for isolation tests. */
export const SAMPLE_OTHER_TENANT_ID = 'e3a1c5b7-9d2f-4e6a-8b0c-1d3f5a7c9e2b';
/** A product and one of its device groups, for certificates' group assignment. */
export const SAMPLE_PRODUCT_ID = '4c8e2a6f-0b3d-4f7a-9e1c-5b7d9f2a4c6e';
export const SAMPLE_GROUP_ID = '9a7c5e3b-1f2d-4a6c-8e0b-2d4f6a8c0e1f';

export const sampleAppHeader: AppImageHeader = {
  kind: 'app',
  tenantId: SAMPLE_TENANT_ID,
  componentId: '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10',
  imageId: 'c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f',
  name: 'blink',
  version: '1.0.0',
  securityVersion: 1,
};

export const sampleOsHeader: PlatformImageHeader = {
  kind: 'os',
  componentId: '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f',
  imageId: '1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d',
  name: 'Orbis OS',
  version: '26.11.0',
  securityVersion: 3,
};
