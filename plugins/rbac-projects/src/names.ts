/**
 * Names: projects are the first segment of repository names; robots are named
 * `<prefix><project>+<name>` (project level) or `<prefix><name>` (system level). `+` never
 * appears in a project name, so the split is unambiguous.
 */

/** Harbor's project name rule: lowercase alphanumerics, single separators between them. */
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ROBOT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export const MAX_PROJECT_NAME = 255;
export const MAX_ROBOT_NAME = 64;

export function isProjectName(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_PROJECT_NAME && PROJECT_NAME.test(name);
}

/** The short name of a robot (without prefix and project). */
export function isRobotShortName(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_ROBOT_NAME && ROBOT_NAME.test(name);
}

/** The project of a repository: its first path segment, when the name has at least two. */
export function projectOf(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : undefined;
}

export function robotFullName(prefix: string, shortName: string, project: string | null): string {
  return project === null ? `${prefix}${shortName}` : `${prefix}${project}+${shortName}`;
}

/**
 * A member's user name as stored: any name an auth provider may vouch for (LDAP users can be
 * added before their first login), but printable and of bounded length.
 */
export function isMemberName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= 255 && !/[\u0000-\u001f\u007f]/.test(name);
}
