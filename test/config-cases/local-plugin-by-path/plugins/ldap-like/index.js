import { definePlugin, Type } from '@wharf/sdk';

// A local auth plugin, loaded by a relative key from the config file's directory.
export default definePlugin({
  id: 'ldap-like',
  kind: 'auth',
  version: '0.0.1',
  kernel: '^0.1.0',
  configSchema: Type.Object(
    {
      url: Type.String({ format: 'uri' }),
      bindPassword: Type.String({ secret: true }),
      timeoutMs: Type.Integer({ default: 5000 }),
    },
    { additionalProperties: false },
  ),
  register() {},
});
