export { startPlatform } from './platform.ts';
export type { PlatformHandle, PlatformOptions } from './platform.ts';
