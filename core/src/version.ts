import { createRequire } from 'node:module';

// Read at runtime so the version has one source: core/package.json (dist/ sits next to it).
const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version: string };

/** The kernel's version, checked against each plugin's `kernel` range. */
export const KERNEL_VERSION: string = pkg.version;
