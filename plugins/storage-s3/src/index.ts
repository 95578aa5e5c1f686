export { VERSION as S3_PLUGIN_VERSION } from './version.js';
