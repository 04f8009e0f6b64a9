/** Instrumentation scope of everything the SDK records. */
export const SDK_NAME = "@mlwatch/sdk";
/** Kept equal to package.json's version (a test checks it). */
export const SDK_VERSION = "0.1.0";
