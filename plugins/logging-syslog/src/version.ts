/** The package version; a test keeps it equal to package.json. */
export const SYSLOG_PLUGIN_VERSION = '0.1.0';
