export { packImage, type PackImageOptions } from './image/pack-image.ts';
