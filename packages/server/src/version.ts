/** Kept equal to packages/server/package.json's version (a test checks it). */
export const VERSION = '0.1.0';
