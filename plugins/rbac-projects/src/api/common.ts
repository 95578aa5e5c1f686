import { ApiError, type ApiErrorCode, type ApiFilter } from '@wharf/sdk';
import type { ProjectsConfig } from '../config.js';
import { ProjectsError, type ProjectsErrorCode } from '../errors.js';
import type { ProjectsService } from '../services.js';

/** What every operation module needs. */
export interface ApiDeps {
  readonly service: ProjectsService;
  readonly config: ProjectsConfig;
}

const CODES: Readonly<Record<ProjectsErrorCode, ApiErrorCode>> = {
  PROJECT_NAME_INVALID: 'BAD_REQUEST',
  GROUP_NAME_INVALID: 'BAD_REQUEST',
  MEMBER_NAME_INVALID: 'BAD_REQUEST',
  ROBOT_NAME_INVALID: 'BAD_REQUEST',
  ROBOT_PERMISSIONS_INVALID: 'BAD_REQUEST',
  ROBOT_DURATION_INVALID: 'BAD_REQUEST',
  ROLE_UNKNOWN: 'BAD_REQUEST',
  PROJECT_EXISTS: 'CONFLICT',
  MEMBER_EXISTS: 'CONFLICT',
  GROUP_EXISTS: 'CONFLICT',
  ROBOT_EXISTS: 'CONFLICT',
  PROJECT_UNKNOWN: 'NOT_FOUND',
  MEMBER_UNKNOWN: 'NOT_FOUND',
  GROUP_UNKNOWN: 'NOT_FOUND',
  ROBOT_UNKNOWN: 'NOT_FOUND',
  PROJECT_NOT_EMPTY: 'PRECONDITION_FAILED',
};

/** Runs a store call; its refusals become envelope errors, anything else stays a 500. */
export async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProjectsError) throw new ApiError(CODES[err.code], err.message);
    throw err;
  }
}

/** A `q=` name condition as the stores take it. */
export function nameFilter(filter: ApiFilter | undefined): { value: string; fuzzy: boolean } | undefined {
  return filter ? { value: filter.value, fuzzy: filter.op === 'fuzzy' } : undefined;
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
