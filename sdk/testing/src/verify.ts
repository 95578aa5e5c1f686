/**
 * `verifyPlugin` lives in `@wharf/core`, next to the loader it drives, so that the
 * `wharf plugin verify` command and this kit run the same code.
 */
export { verifyPlugin, type PluginVerification, type VerifyPluginOptions } from '@wharf/core';
