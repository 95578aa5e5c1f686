export { VERSION as RBAC_PLUGIN_VERSION } from './version.js';
