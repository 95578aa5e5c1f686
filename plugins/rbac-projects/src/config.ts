import { Type, type Static } from '@wharf/sdk';

/** The `rbac: { projects: {...} }` section of the Wharf config. */
export const projectsConfigSchema = Type.Object(
  {
    creation: Type.Union([Type.Literal('everyone'), Type.Literal('adminonly')], {
      default: 'everyone',
      description: "Who may create projects: any logged-in user (Harbor's default) or system administrators only.",
    }),
    autoCreate: Type.Boolean({
      default: false,
      description:
        'Pushing to a repository of a missing project creates it (private), with the pusher as its Project Admin, when the pusher may create projects. Off: such pushes are refused.',
    }),
    defaultProject: Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-z0-9]+(?:[._-][a-z0-9]+)*$' }), Type.Null()], {
      default: 'library',
      description: 'A public project created at startup when missing (as Harbor does); null for none.',
    }),
    robotPrefix: Type.String({
      minLength: 1,
      maxLength: 32,
      pattern: '^[^\\s:+/]+$',
      default: 'robot$',
      description: 'Prefix of robot account names: `<prefix><project>+<name>` or `<prefix><name>` for system robots.',
    }),
    robotDefaultDays: Type.Union([Type.Literal(-1), Type.Integer({ minimum: 1, maximum: 36500 })], {
      default: 30,
      description: 'Lifetime of new robot accounts in days when the request names none; -1 = never expire.',
    }),
    decisionCacheSeconds: Type.Integer({
      minimum: 0,
      maximum: 60,
      default: 5,
      description:
        'How long a process reuses what it read about a project (visibility, members, robots) when deciding access. Local changes apply at once; changes made through another node apply within this time.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type ProjectsConfig = Static<typeof projectsConfigSchema>;
