import { RegistryError, type Credentials, type Logger, type Principal } from '@wharf/sdk';
import { isExpired, type RobotStore } from './robot-store.js';

/**
 * Robot logins, on `auth.authenticate` (tapped at a negative stage, so before every other
 * provider: an LDAP server or the users table never sees a robot name), and `auth.active` for
 * tokens issued to robots. A Basic username with the robot prefix is always answered here:
 * a principal, or `UNAUTHORIZED` (unknown, disabled or expired robot, wrong secret).
 */

export interface RobotAuthOptions {
  readonly robots: RobotStore;
  readonly prefix: string;
  /** The plugin id, the `provider` of robot principals. */
  readonly provider: string;
  readonly logger: Logger;
}

export function robotAuthenticator(options: RobotAuthOptions): (credentials: Credentials) => Promise<Principal | undefined> {
  const { prefix, provider, logger } = options;
  return async (credentials) => {
    if (credentials.kind !== 'basic' || !credentials.username.startsWith(prefix)) return undefined;
    const check = await options.robots.verify(credentials.username, credentials.password);
    if (check.ok) {
      // The secret's fingerprint binds tokens and cached logins to this secret (see robotActivity).
      return { subject: check.robot.name, kind: 'robot', provider, admin: false, groups: [], claims: { secret: check.robot.secretFingerprint } };
    }
    logger.info({ robot: credentials.username, reason: check.reason }, 'robot login refused');
    throw new RegistryError('UNAUTHORIZED', 'invalid robot name or secret, or the robot is disabled or expired');
  };
}

/**
 * `false` for robots deleted, disabled or expired since their token was issued, and for a
 * principal of another secret than the robot's current one (refreshed since: its refresh tokens
 * and cached logins die with it, on every node, since the answer comes from the database).
 * Others are not ours.
 */
export function robotActivity(options: Pick<RobotAuthOptions, 'robots' | 'provider'>): (principal: Principal) => Promise<boolean | undefined> {
  return async (principal) => {
    if (principal.kind !== 'robot' || principal.provider !== options.provider) return undefined;
    const robot = await options.robots.getByName(principal.subject);
    if (robot === undefined || robot.disabled || isExpired(robot)) return false;
    return principal.claims?.secret === robot.secretFingerprint;
  };
}
