import { Type, type Static } from '@wharf/sdk';

/** The `extensions.ui` section. Leaving the key out of `extensions` turns the UI off. */
export const uiConfigSchema = Type.Object(
  {
    sessionMinutes: Type.Integer({
      minimum: 5,
      maximum: 43200,
      default: 480,
      description: 'How long a browser session lives after login, in minutes; then the user logs in again. Logging out or disabling the user ends it at once.',
    }),
    idleMinutes: Type.Integer({
      minimum: 5,
      maximum: 43200,
      default: 60,
      description: 'A session unused for this many minutes expires before sessionMinutes.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'The web UI at /: a single-page app on the management API, with cookie sessions.' },
);

export type UiConfig = Static<typeof uiConfigSchema>;
