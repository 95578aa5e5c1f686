/**
 * `@wharf/create-plugin`: the templates behind `wharf plugin new`, out of the kernel. The
 * `wharf` binary (`@wharf/server`) contributes the command; the kernel ships no template.
 * @packageDocumentation
 */
export { pluginNewCommand, scaffoldFiles, scaffoldVars, type PluginNewOptions } from './plugin-new.js';
