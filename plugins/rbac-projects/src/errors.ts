/** Refusals of the projects plugin's stores, with stable codes the API and CLI map. */
export type ProjectsErrorCode =
  | 'PROJECT_NAME_INVALID'
  | 'PROJECT_EXISTS'
  | 'PROJECT_UNKNOWN'
  | 'PROJECT_NOT_EMPTY'
  | 'MEMBER_EXISTS'
  | 'MEMBER_UNKNOWN'
  | 'MEMBER_NAME_INVALID'
  | 'ROLE_UNKNOWN'
  | 'GROUP_EXISTS'
  | 'GROUP_UNKNOWN'
  | 'GROUP_NAME_INVALID'
  | 'ROBOT_NAME_INVALID'
  | 'ROBOT_EXISTS'
  | 'ROBOT_UNKNOWN'
  | 'ROBOT_PERMISSIONS_INVALID'
  | 'ROBOT_DURATION_INVALID';

/** A refusal of the projects or robots store; `code` says which, the message says why. */
export class ProjectsError extends Error {
  constructor(
    readonly code: ProjectsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProjectsError';
  }
}
