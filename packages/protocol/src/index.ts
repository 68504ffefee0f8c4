export * from './errors/catalogue.ts';
export * from './errors/envelope.ts';
export * from './limits.ts';
export * from './ids.ts';
export * from './image-header.ts';
export * from './image-package.ts';
export * from './app-manifest.ts';
export * from './attestation.ts';
