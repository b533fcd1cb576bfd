/** Kept equal to package.json's version by a test (importing package.json would not work everywhere). */
export const SDK_VERSION = '0.1.0';
